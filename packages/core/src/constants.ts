/** The one nftables table mwan owns. Nothing else is ever touched. */
export const NFT_FAMILY = 'inet';
export const NFT_TABLE = 'mwan';

/**
 * iproute2 protocol number stamped on every rule and route mwan creates ("m" = 109).
 * Ownership is read back from the kernel (`ip -json rule`), never guessed from a file.
 */
export const MWAN_PROTO = 109;

/** Priority of `iif LAN lookup main suppress_prefixlength 0`: specific routes win over balancing. */
export const RULE_PREF_SUPPRESS = 31000;
/** Priority of the per-link `fwmark M lookup T` rules; marks are disjoint, so one priority serves all. */
export const RULE_PREF_FWMARK = 31001;

/**
 * The bits of the packet mark and of the ct mark that mwan owns by default: the low byte, 255
 * marks. It leaves free what other software is known to use: Kubernetes 0x4000 and 0x8000,
 * Tailscale 0xff0000, Calico 0xffff0000, Cilium 0xf00, OpenWrt's mwan3 0x3f00. Marks mwan
 * allocated before masks existed (1, 2, 3, ...) stay valid.
 */
export const DEFAULT_MARK_MASK = 0xff;

/** Default routing table of a link: TABLE_BASE + its mark. */
export const TABLE_BASE = 1000;

/** Tables the kernel reserves: unspec, default, main, local. */
export const RESERVED_TABLES: ReadonlySet<number> = new Set([0, 253, 254, 255]);

export const MAX_LINKS = 256;
export const MAX_WEIGHT = 1000;
export const MAX_CONFIG_BYTES = 1024 * 1024;
export const DEFAULT_CONFIG_PATH = '/etc/mwan/mwan.json';

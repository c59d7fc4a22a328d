import { mkdirSync, writeFileSync, truncateSync, readFileSync, existsSync } from 'node:fs';
import { join } from 'node:path';
import { execa, type ResultPromise } from 'execa';
import type { Lab } from '@mwan/lab';
import { waitListening } from './listening.js';

export interface NginxOptions {
  /** Directory for the config, logs and served files (inside the lab's temporary directory). */
  dir: string;
  address: string;
  port?: number;
  /** Files to serve, name → size in bytes (filled with a fixed pattern). */
  files?: Record<string, number>;
  /** Log every request as "client-address bytes-sent" (for per-link counts). */
  accessLog?: boolean;
}

/** The file every new-connection request fetches: small, so the rate measures connections. */
export const SMALL_FILE = 'hello.txt';

/**
 * nginx in the lab's server namespace: the web server of the connection-rate and capacity
 * benchmarks. Its processes live in the lab's namespace, so destroying the lab also ends them.
 */
export class Nginx {
  private constructor(
    private readonly child: ResultPromise,
    readonly address: string,
    readonly port: number,
    private readonly logPath: string | undefined,
  ) {}

  static async start(lab: Lab, options: NginxOptions): Promise<Nginx> {
    const port = options.port ?? 80;
    const root = join(options.dir, 'www');
    mkdirSync(join(options.dir, 'temp'), { recursive: true });
    mkdirSync(root, { recursive: true });
    writeFileSync(join(root, SMALL_FILE), 'hello from the server namespace\n');
    for (const [name, size] of Object.entries(options.files ?? {})) writeFileSync(join(root, name), Buffer.alloc(size, 'mwan-bench '));
    const logPath = options.accessLog ? join(options.dir, 'access.log') : undefined;
    const conf = join(options.dir, 'nginx.conf');
    writeFileSync(conf, nginxConf({ dir: options.dir, root, address: options.address, port, logPath }));
    const child = execa('ip', ['netns', 'exec', lab.ns.srv, 'nginx', '-c', conf, '-p', options.dir, '-e', join(options.dir, 'error.log')], {
      reject: false,
      stdin: 'ignore',
    });
    const nginx = new Nginx(child, options.address, port, logPath);
    try {
      await Promise.race([
        waitListening(lab, options.address, port),
        child.then((r) => {
          throw new Error(`nginx exited (${r.exitCode}): ${r.stderr || readLog(join(options.dir, 'error.log'))}`);
        }),
      ]);
    } catch (error) {
      nginx.stop();
      throw error;
    }
    return nginx;
  }

  url(path: string): string {
    return `http://${hostOf(this.address)}${this.port === 80 ? '' : `:${this.port}`}/${path}`;
  }

  /** Forgets the requests logged so far (nginx appends, so truncating is safe). */
  clearLog(): void {
    if (this.logPath) truncateSync(this.logPath, 0);
  }

  /** Requests logged since the last clear, as [client address, bytes sent]. */
  logged(): Array<[string, number]> {
    if (!this.logPath || !existsSync(this.logPath)) return [];
    return readFileSync(this.logPath, 'utf8').split('\n').filter(Boolean).map((line) => {
      const [address, bytes] = line.split(' ');
      return [address, Number(bytes)];
    });
  }

  stop(): void {
    this.child.kill('SIGTERM');
  }
}

/** An IPv6 address goes in brackets before a port, in URLs and in nginx's `listen`. */
const hostOf = (address: string): string => (address.includes(':') ? `[${address}]` : address);

function readLog(path: string): string {
  return existsSync(path) ? readFileSync(path, 'utf8').trim() : '';
}

function nginxConf(o: { dir: string; root: string; address: string; port: number; logPath: string | undefined }): string {
  const temp = join(o.dir, 'temp');
  return `# Written by the mwan bench; runs in the lab's server namespace only.
daemon off;
master_process on;
worker_processes 1;
user root;
pid ${join(o.dir, 'nginx.pid')};
error_log ${join(o.dir, 'error.log')} warn;
events { worker_connections 8192; }
http {
  ${o.logPath ? `log_format bench '$remote_addr $body_bytes_sent';\n  access_log ${o.logPath} bench;` : 'access_log off;'}
  client_body_temp_path ${temp}/body;
  proxy_temp_path ${temp}/proxy;
  fastcgi_temp_path ${temp}/fastcgi;
  uwsgi_temp_path ${temp}/uwsgi;
  scgi_temp_path ${temp}/scgi;
  sendfile on;
  keepalive_timeout 0;
  server {
    listen ${hostOf(o.address)}:${o.port} backlog=4096;
    root ${o.root};
  }
}
`;
}

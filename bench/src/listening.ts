import type { Lab } from '@mwan/lab';
import { waitUntil } from './poll.js';

/** Waits until something listens on address:port (TCP) in the lab's server namespace. */
export async function waitListening(lab: Lab, address: string, port: number, timeoutMs = 10_000): Promise<void> {
  await waitUntil(async () => {
    const { stdout } = await lab.exec('srv', 'ss', ['-Hltn', 'src', address.includes(':') ? `[${address}]` : address, 'sport', `= :${port}`], { reject: false });
    return stdout.trim() ? true : undefined;
  }, timeoutMs, `listener on ${address}:${port}`);
}

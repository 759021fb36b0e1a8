import { execFile } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';

const SCRIPT = resolve(import.meta.dirname, '../../../scripts/kafka.sh');

/** A free TCP port on 127.0.0.1 (asked of the kernel, then released). */
function freePort(): Promise<number> {
  return new Promise((ok, fail) => {
    const srv = createServer();
    srv.once('error', fail);
    srv.listen(0, '127.0.0.1', () => {
      const addr = srv.address();
      srv.close(() => (typeof addr === 'object' && addr ? ok(addr.port) : fail(new Error('no port'))));
    });
  });
}

/**
 * A Kafka broker of this test file's own, on free loopback ports, run by scripts/kafka.sh:
 * restart tests stop and start it without touching the shared broker.
 */
export class PrivateBroker {
  private env: Record<string, string> = {};
  private dir = '';
  brokers: string[] = [];

  async start(): Promise<void> {
    if (!this.dir) {
      this.dir = await mkdtemp(join(tmpdir(), 'sy-kafka-'));
      const [port, controller] = [await freePort(), await freePort()];
      this.env = { KAFKA_PORT: String(port), KAFKA_CONTROLLER_PORT: String(controller), KAFKA_DATA_DIR: this.dir, KAFKA_HEAP: '384m' };
      this.brokers = [`127.0.0.1:${port}`];
    }
    await this.run('start');
  }

  stop(): Promise<void> {
    return this.run('stop');
  }

  /** Stop the broker and remove its data. */
  async destroy(): Promise<void> {
    if (!this.dir) return;
    await this.run('stop').catch(() => undefined);
    await rm(this.dir, { recursive: true, force: true });
    this.dir = '';
  }

  private run(command: string): Promise<void> {
    return new Promise((ok, fail) => {
      execFile('bash', [SCRIPT, command], { env: { ...process.env, ...this.env }, timeout: 170_000 }, (err, stdout, stderr) =>
        err ? fail(new Error(`kafka.sh ${command} failed: ${err.message}\n${stdout}\n${stderr}`)) : ok(),
      );
    });
  }
}

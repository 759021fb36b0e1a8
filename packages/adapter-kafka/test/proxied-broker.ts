import { TcpProxy } from '@switchyard/core/testing';
import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync, openSync, closeSync } from 'node:fs';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { createConnection, createServer } from 'node:net';
import { homedir, tmpdir } from 'node:os';
import { join } from 'node:path';

const HOST = '127.0.0.1';

/** The Kafka jars scripts/kafka.sh resolved into its cache, if it ever ran here. */
export function kafkaJars(): string | undefined {
  const cache = process.env.SWITCHYARD_CACHE ?? join(process.env.HOME ?? homedir(), '.cache', 'switchyard');
  const dir = join(cache, `kafka-${process.env.KAFKA_VERSION ?? '4.4.0'}`, 'libs');
  return existsSync(join(dir, '.complete')) ? dir : undefined;
}

function freePort(): Promise<number> {
  return new Promise((ok, fail) => {
    const srv = createServer();
    srv.once('error', fail);
    srv.listen(0, HOST, () => {
      const addr = srv.address();
      srv.close(() => (typeof addr === 'object' && addr ? ok(addr.port) : fail(new Error('no port'))));
    });
  });
}

const answers = (port: number): Promise<boolean> =>
  new Promise((ok) => {
    const s = createConnection({ host: HOST, port });
    s.once('connect', () => (s.destroy(), ok(true)));
    s.once('error', () => ok(false));
  });

const java = (args: string[], timeoutMs: number): Promise<void> =>
  new Promise((ok, fail) => {
    execFile('java', args, { timeout: timeoutMs }, (err, stdout, stderr) => (err ? fail(new Error(`${err.message}\n${stdout}\n${stderr}`)) : ok()));
  });

/**
 * A single-node KRaft broker of this test's own that ADVERTISES a `TcpProxy` in front of it, so
 * every connection a client makes (bootstrap and the broker it is told about) goes through the
 * proxy, and the test can blackhole the whole link. Started with the jars scripts/kafka.sh
 * cached (that script always advertises the port it listens on, so it cannot do this).
 */
export class ProxiedBroker {
  private child: ChildProcess | undefined;

  private constructor(
    readonly proxy: TcpProxy,
    private readonly dir: string,
  ) {}

  /** What clients bootstrap with: the proxy. */
  get brokers(): string[] {
    return [`${HOST}:${this.proxy.port}`];
  }

  static async start(jars: string, startTimeoutMs = 150_000): Promise<ProxiedBroker> {
    const [port, controller] = [await freePort(), await freePort()];
    const proxy = await TcpProxy.start({ target: { host: HOST, port } });
    const dir = await mkdtemp(join(tmpdir(), 'sy-kafka-proxied-'));
    const broker = new ProxiedBroker(proxy, dir);
    try {
      await writeFile(
        join(dir, 'server.properties'),
        [
          'process.roles=broker,controller',
          'node.id=1',
          `controller.quorum.voters=1@${HOST}:${controller}`,
          `listeners=PLAINTEXT://${HOST}:${port},CONTROLLER://${HOST}:${controller}`,
          `advertised.listeners=PLAINTEXT://${HOST}:${proxy.port}`,
          'listener.security.protocol.map=PLAINTEXT:PLAINTEXT,CONTROLLER:PLAINTEXT',
          'controller.listener.names=CONTROLLER',
          'inter.broker.listener.name=PLAINTEXT',
          `log.dirs=${join(dir, 'kraft')}`,
          'num.partitions=1',
          'default.replication.factor=1',
          'offsets.topic.replication.factor=1',
          'offsets.topic.num.partitions=1',
          'transaction.state.log.replication.factor=1',
          'transaction.state.log.min.isr=1',
          'share.coordinator.state.topic.replication.factor=1',
          'share.coordinator.state.topic.min.isr=1',
          'min.insync.replicas=1',
          'auto.create.topics.enable=false',
          'group.initial.rebalance.delay.ms=0',
          'num.network.threads=2',
          'num.io.threads=2',
          '',
        ].join('\n'),
      );
      await writeFile(join(dir, 'log4j2.properties'), 'status = warn\nappender.out.type = Console\nappender.out.name = out\nappender.out.layout.type = PatternLayout\nappender.out.layout.pattern = [%d] %p %m (%c)%n\nrootLogger.level = warn\nrootLogger.appenderRef.out.ref = out\n');
      const log4j = `-Dlog4j2.configurationFile=${join(dir, 'log4j2.properties')}`;
      const clusterId = randomBytes(16).toString('base64url');
      await java(['-cp', `${jars}/*`, log4j, 'kafka.tools.StorageTool', 'format', `--cluster-id=${clusterId}`, `--config=${join(dir, 'server.properties')}`], 120_000);
      const out = openSync(join(dir, 'server.log'), 'a');
      broker.child = spawn('java', ['-Xms256m', '-Xmx384m', '-XX:+UseG1GC', '-Djava.awt.headless=true', log4j, '-cp', `${jars}/*`, 'kafka.Kafka', join(dir, 'server.properties')], {
        stdio: ['ignore', out, out],
      });
      closeSync(out);
      const deadline = Date.now() + startTimeoutMs;
      while (!(await answers(port))) {
        if (broker.child.exitCode !== null) throw new Error(`the proxied Kafka broker exited during start (log: ${join(dir, 'server.log')})`);
        if (Date.now() > deadline) throw new Error(`the proxied Kafka broker did not answer within ${startTimeoutMs} ms`);
        await new Promise((r) => setTimeout(r, 250));
      }
      return broker;
    } catch (err) {
      await broker.destroy();
      throw err;
    }
  }

  /** Kill the broker (its data is thrown away), close the proxy, remove the directory. */
  async destroy(): Promise<void> {
    const child = this.child;
    this.child = undefined;
    if (child && child.exitCode === null && child.signalCode === null) {
      const exited = new Promise<void>((ok) => child.once('exit', () => ok()));
      child.kill('SIGKILL');
      await exited;
    }
    await this.proxy.close();
    await rm(this.dir, { recursive: true, force: true });
  }
}

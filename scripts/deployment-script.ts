import { execFile, spawn } from 'node:child_process';
import { createWriteStream, mkdirSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import type { Endpoints } from '../src/config/endpoints.ts';
import { runScript } from './stack-script.ts';

const root = fileURLToPath(new URL('..', import.meta.url));
const run = promisify(execFile);

/** kelt's image, built from docker/Dockerfile by a local Docker engine. */
export interface BuiltImage {
  name: string;
  /** The engine's socket, as DOCKER_HOST. */
  dockerHost: string;
  sizeBytes: number;
  buildSeconds: number;
}

/**
 * Starts the project's Docker engine (scripts/docker-engine), makes the
 * base image when no upstream one can be pulled, and builds the image with
 * the host's network for its RUN steps (the engine has no bridge). The build's
 * output goes to test-results/image-build.log.
 */
export async function buildImage(name: string): Promise<BuiltImage> {
  const { DOCKER_HOST: dockerHost } = await runScript('docker-engine', ['up']);
  const { KELT_BASE_IMAGE: baseImage } = await runScript('docker-engine', ['base-image']);
  const env = { ...process.env, DOCKER_HOST: dockerHost! };
  const logFile = `${root}test-results/image-build.log`;
  mkdirSync(`${root}test-results`, { recursive: true });
  const started = Date.now();
  await new Promise<void>((resolve, reject) => {
    const log = createWriteStream(logFile);
    const child = spawn(
      'docker',
      ['build', '--network', 'host', '--build-arg', `BASE_IMAGE=${baseImage}`, '-f', 'docker/Dockerfile', '-t', name, '.'],
      { cwd: root, env, stdio: ['ignore', 'pipe', 'pipe'] },
    );
    child.stdout.pipe(log);
    child.stderr.pipe(log);
    child.on('error', reject);
    child.on('exit', (code) =>
      log.end(() =>
        code === 0
          ? resolve()
          : reject(new Error(`docker build exited with ${code}:\n${readFileSync(logFile, 'utf8').split('\n').slice(-30).join('\n')}`)),
      ),
    );
  });
  const buildSeconds = Math.round((Date.now() - started) / 1000);
  const { stdout } = await run('docker', ['image', 'inspect', '--format', '{{.Size}}', name], { env });
  return { name, dockerHost: dockerHost!, sizeBytes: Number(stdout.trim()), buildSeconds };
}

/** A running kube-apiserver (scripts/kube) and the CRDs the chart's optional objects need. */
export interface KubeApiServer {
  kubeconfig: string;
  /** A directory of CRD manifests: ServiceMonitor, PrometheusRule, ScaledObject. */
  crds: string;
}

export async function startKubeApiServer(): Promise<KubeApiServer> {
  const { KELT_KUBE_CRDS: crds } = await runScript('kube', ['crds']);
  const { KUBECONFIG: kubeconfig } = await runScript('kube', ['up']);
  return { kubeconfig: kubeconfig!, crds: crds! };
}

/**
 * Starts `count` nodes (scripts/kube-node) whose pods reach the stack's
 * Kafka, registry and MariaDB at the same 127.0.0.1 addresses as here, and
 * imports the image into every node's runtime (no registry to pull from).
 */
export async function startKubeNodes(count: number, stack: Endpoints, image: BuiltImage): Promise<void> {
  const ports = [...stack.kafkaBrokers, new URL(stack.schemaRegistryUrl).host, new URL(stack.mysqlUrl!).host].map((hostPort) => {
    const [host, port] = hostPort.split(':');
    if (host !== '127.0.0.1' && host !== 'localhost') throw new Error(`the nodes reach only this machine's loopback, not ${hostPort}`);
    return port!;
  });
  await runScript('kube-node', ['up', '--nodes', String(count), '--forward', ports.join(',')]);
  const archive = join(mkdtempSync(join(tmpdir(), 'kelt-image-')), 'image.tar');
  await run('docker', ['save', '-o', archive, image.name], { env: { ...process.env, DOCKER_HOST: image.dockerHost } });
  await runScript('kube-node', ['import', archive]);
  rmSync(dirname(archive), { recursive: true });
}

export async function stopKubeNodes(): Promise<void> {
  await runScript('kube-node', ['down']);
}

/** A port a pod serves on its node's host network, reachable here at 127.0.0.1:`localPort` (returned as host:port). */
export async function exposeNodePort(node: string, port: number, localPort: number): Promise<string> {
  const { KELT_KUBE_NODE_ADDRESS: address } = await runScript('kube-node', ['expose', node, String(port), String(localPort)]);
  return address!;
}

/** Kills a container (its status's containerID, containerd://…) on its node, as a node-level failure would: the kubelet sees it exit. */
export async function killNodeContainer(node: string, containerId: string): Promise<void> {
  await runScript('kube-node', ['kill', node, containerId.replace(/^containerd:\/\//, '')]);
}

/** A standalone Docker Compose v2 (scripts/docker-engine compose). */
export async function dockerCompose(): Promise<string> {
  const { KELT_DOCKER_COMPOSE: compose } = await runScript('docker-engine', ['compose']);
  return compose!;
}

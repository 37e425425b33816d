import { execFile } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';
import { parse as parseYaml } from 'yaml';

const run = promisify(execFile);
const root = fileURLToPath(new URL('../../', import.meta.url));
const kelt = join(root, 'scripts/kelt');
const dockerfile = readFileSync(join(root, 'docker/Dockerfile'), 'utf8');

interface ComposeService {
  build?: { context: string; dockerfile: string };
  image?: string;
  command?: string[];
  volumes?: string[];
}

async function helpOf(command: string): Promise<string> {
  return (await run(kelt, [command, '--help'])).stdout;
}

describe('container image and compose files', () => {
  it('copy only files that exist into the image', () => {
    const sources = [...dockerfile.matchAll(/^COPY (?!--from)(.+) \S+$/gm)].flatMap((m) => m[1]!.split(/\s+/));
    expect(sources.length).toBeGreaterThan(4);
    for (const source of sources) expect(existsSync(join(root, source)), source).toBe(true);
  });

  it('run the CLI that the TypeScript build emits, and it works compiled', async () => {
    expect(dockerfile).toContain('ENTRYPOINT ["/usr/bin/tini", "--", "node", "/app/dist/src/cli/main.js"]');
    expect(dockerfile).toMatch(/^USER node$/m);
    // The image's V8 flags are the ones the kelt command runs with.
    const keltFlags = /^export NODE_OPTIONS="([^$"]+)\$/m.exec(readFileSync(kelt, 'utf8'))?.[1];
    expect(keltFlags).toBeDefined();
    expect(dockerfile).toMatch(new RegExp(`^ +NODE_OPTIONS=${keltFlags} \\\\$`, 'm'));
    expect(dockerfile).toMatch(/^HEALTHCHECK .*\n.*\/healthz/m);
    // The build step of the image, here: compile, then run the compiled CLI and find the compiled workers.
    await run(join(root, 'scripts/with-node'), ['tsc', '-p', join(root, 'tsconfig.build.json')]);
    for (const worker of ['extract-worker.js', 'transform-worker.js']) expect(existsSync(join(root, 'dist/workers', worker)), worker).toBe(true);
    const { stdout } = await run(join(root, 'scripts/with-node'), [
      'node',
      join(root, 'dist/src/cli/main.js'),
      'validate',
      join(root, 'schemas/pageviews.pipeline.yaml'),
    ]);
    expect(stdout).toContain('valid');
  });

  it('compose: mounts files that exist, builds from the Dockerfile, and runs commands and options the CLI has', async () => {
    const compose = parseYaml(readFileSync(join(root, 'docker/docker-compose.yml'), 'utf8'), { merge: true }) as {
      services: Record<string, ComposeService>;
    };
    const services = compose.services;
    expect(Object.keys(services)).toEqual(
      expect.arrayContaining(['kafka', 'schema-registry', 'mysql', 'prometheus', 'grafana', 'migrate', 'extract', 'load', 'transform', 'producer']),
    );
    for (const [name, service] of Object.entries(services)) {
      for (const volume of service.volumes ?? []) {
        const source = volume.split(':')[0]!;
        if (source.startsWith('.')) expect(existsSync(join(root, 'docker', source)), `${name}: ${source}`).toBe(true);
      }
      if (service.build !== undefined) {
        expect(existsSync(join(root, 'docker', service.build.context, service.build.dockerfile)), name).toBe(true);
        const [command, ...args] = service.command!;
        const help = await helpOf(command!);
        for (const option of args.filter((arg) => arg.startsWith('--'))) expect(help, `${name}: ${option}`).toContain(option);
        // Paths under /app come from the repository (COPY schemas ./schemas …).
        for (const file of args.filter((arg) => arg.startsWith('/app/'))) expect(existsSync(join(root, file.slice('/app/'.length))), file).toBe(true);
      }
    }
    for (const stage of ['extract', 'load', 'transform']) expect(services[stage]!.command![0]).toBe(stage);
  });

  it('compose Prometheus loads the same alert rules and Grafana the same dashboard', () => {
    const prometheus = parseYaml(readFileSync(join(root, 'docker/monitoring/prometheus.yml'), 'utf8')) as { rule_files: string[] };
    expect(prometheus.rule_files).toEqual(['/etc/prometheus/kelt-alerts.yml']);
    const compose = readFileSync(join(root, 'docker/docker-compose.yml'), 'utf8');
    expect(compose).toContain('./monitoring/kelt-alerts.yml:/etc/prometheus/kelt-alerts.yml:ro');
    expect(compose).toContain('./monitoring/kelt-dashboard.json:/var/lib/grafana/dashboards/kelt-dashboard.json:ro');
  });
});

import { execFile } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { describe, expect, inject, it } from 'vitest';

const run = promisify(execFile);
const composeFile = fileURLToPath(new URL('../../docker/docker-compose.yml', import.meta.url));

describe('docker/docker-compose.yml', () => {
  it('is a valid Compose file by Docker Compose itself, with every service of the stack', async () => {
    const compose = (...args: string[]) => run(inject('compose'), ['-f', composeFile, ...args]);
    await expect(compose('config', '--quiet')).resolves.toMatchObject({ stderr: '' });
    const services = (await compose('config', '--services')).stdout.trim().split('\n').sort();
    expect(services).toEqual(['extract', 'grafana', 'kafka', 'load', 'migrate', 'mysql', 'producer', 'prometheus', 'schema-registry', 'transform']);
  });
});

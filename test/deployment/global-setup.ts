import type { TestProject } from 'vitest/node';
import { buildImage, dockerCompose, startKubeApiServer, type BuiltImage, type KubeApiServer } from '../../scripts/deployment-script.ts';
import { givenOrLocalStack, installTools } from '../../scripts/stack-script.ts';

declare module 'vitest' {
  export interface ProvidedContext {
    image: BuiltImage;
    kube: KubeApiServer;
    compose: string;
  }
}

/**
 * The deployment tests need the local stack (the image's stages run against
 * it), the image built by a local Docker engine, helm, Docker Compose and a
 * Kubernetes API server: each started or built here (cached builds, minutes when cold).
 */
export default async function setup(project: TestProject): Promise<void> {
  project.provide('endpoints', await givenOrLocalStack());
  project.provide('tools', await installTools());
  const image = await buildImage('kelt:test');
  console.log(`deployment: image ${image.name} built in ${image.buildSeconds} s, ${(image.sizeBytes / 1e6).toFixed(0)} MB`);
  project.provide('image', image);
  project.provide('kube', await startKubeApiServer());
  project.provide('compose', await dockerCompose());
}

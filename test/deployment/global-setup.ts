import type { TestProject } from 'vitest/node';
import {
  buildImage,
  dockerCompose,
  startKubeApiServer,
  startKubeNodes,
  stopKubeNodes,
  type BuiltImage,
  type KubeApiServer,
} from '../../scripts/deployment-script.ts';
import { givenOrLocalStack, installTools } from '../../scripts/stack-script.ts';

/** A stage scales to three members, one per node (a node's stages share its host network). */
const NODES = 3;

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
 * Kubernetes API server with three nodes: each started or built here (cached
 * builds, minutes when cold). The nodes stop at the end (their pods would go on
 * using the stack); the API server stays, like the stack.
 */
export default async function setup(project: TestProject): Promise<() => Promise<void>> {
  const stack = await givenOrLocalStack();
  project.provide('endpoints', stack);
  project.provide('tools', await installTools());
  const image = await buildImage('kelt:test');
  console.log(`deployment: image ${image.name} built in ${image.buildSeconds} s, ${(image.sizeBytes / 1e6).toFixed(0)} MB`);
  project.provide('image', image);
  project.provide('kube', await startKubeApiServer());
  project.provide('compose', await dockerCompose());
  await startKubeNodes(NODES, stack, image);
  return stopKubeNodes;
}

import type { TestProject } from 'vitest/node';
import type { Endpoints } from '../../src/config/endpoints.ts';
import { givenOrLocalStack, installTools, type Tools } from '../../scripts/stack-script.ts';

declare module 'vitest' {
  export interface ProvidedContext {
    endpoints: Endpoints;
    tools: Tools;
  }
}

export default async function setup(project: TestProject): Promise<void> {
  project.provide('endpoints', await givenOrLocalStack());
  project.provide('tools', await installTools());
}

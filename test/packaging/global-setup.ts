import type { TestProject } from 'vitest/node';
import { installTools } from '../../scripts/stack-script.ts';

/** The deployment tests need helm and promtool, nothing running. */
export default async function setup(project: TestProject): Promise<void> {
  project.provide('tools', await installTools());
}

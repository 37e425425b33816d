/**
 * Where kelt's own files are, whether it runs from its TypeScript sources
 * (development: Node strips the types) or compiled to dist/ (the container
 * image). Module-relative URLs differ by one directory between the two.
 */
const compiled = import.meta.url.endsWith('.js');

/** The project's root directory (where package.json is). */
export const projectRoot = new URL(compiled ? '../../../' : '../../', import.meta.url);

export function projectFile(relative: string): URL {
  return new URL(relative, projectRoot);
}

/** A Piscina worker entry point in workers/, as source or compiled. */
export function workerFile(name: string): URL {
  return projectFile(compiled ? `dist/workers/${name}.js` : `workers/${name}.ts`);
}

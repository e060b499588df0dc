/** The README's shell blocks, as printed, for the tests that run them. */

/** The `n`th (from 0) sh block under the heading, exactly as the README prints it. */
export function readmeBlock(readme: string, heading: string, n = 0): string {
  const section = readme.split(`\n${heading}\n`)[1]?.split(/\n#{1,3} /)[0];
  const block = [...(section ?? "").matchAll(/```sh\n([\s\S]*?)```/g)][n]?.[1];
  if (!block) throw new Error(`README.md has no sh block ${n + 1} under "${heading}"`);
  return block;
}

/** The README's shell blocks, as printed, for the tests that run them. */

/** The first sh block under the heading, exactly as the README prints it. */
export function readmeBlock(readme: string, heading: string): string {
  const section = readme.split(`\n${heading}\n`)[1]?.split(/\n#{1,3} /)[0];
  const block = (section ?? "").match(/```sh\n([\s\S]*?)```/)?.[1];
  if (!block) throw new Error(`README.md has no sh block under "${heading}"`);
  return block;
}

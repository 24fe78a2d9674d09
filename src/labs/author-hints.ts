// Author mode's hints: things that parse fine but probably do not do what the author meant. Today one: an
// inline `verify: <command>` line (the habit from other lab formats), which tabdock shows as text and never runs.

export interface AuthorHint {
  line: number;
  message: string;
}

const INLINE_VERIFY = /^\s{0,3}(?:[-*>]\s*)?(?:\*\*|__)?verify(?:\*\*|__)?\s*:(?:\*\*|__)?\s*`?([^`]+?)`?\s*$/i;
const FENCE = /^\s{0,3}(`{3,}|~{3,})/;

/** Lines outside the frontmatter and fenced blocks that look like an inline verify check. */
export function authorHints(source: string): AuthorHint[] {
  const lines = source.split(/\r?\n/);
  const hints: AuthorHint[] = [];
  let index = 0;
  if (lines[0]?.trim() === '---') {
    const end = lines.findIndex((line, i) => i > 0 && line.trim() === '---');
    index = end === -1 ? lines.length : end + 1;
  }
  let fence: string | undefined;
  for (; index < lines.length; index++) {
    const line = lines[index] ?? '';
    const marker = FENCE.exec(line)?.[1];
    if (marker !== undefined) {
      if (fence === undefined) fence = marker;
      else if (marker[0] === fence[0] && marker.length >= fence.length) fence = undefined;
      continue;
    }
    if (fence !== undefined) continue;
    const command = INLINE_VERIFY.exec(line)?.[1]?.trim();
    if (!command) continue;
    hints.push({
      line: index + 1,
      message: `"verify: ${command}" is shown as text and never runs. A step's check goes in a fenced block of its own: \`\`\`verify, then the command on the next line, then \`\`\`.`,
    });
  }
  return hints;
}

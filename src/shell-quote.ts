/** Quotes a string for POSIX sh: '...' with each ' written as '\'' (POSIX.1-2017, Shell Command Language 2.2.2). */
export function shellQuote(text: string): string {
  return `'${text.replace(/'/g, `'\\''`)}'`;
}

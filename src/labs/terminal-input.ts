// What to send to the guest shell so a Run button "types" a command: the bytes a user would type.

/**
 * Ctrl-U first (clears whatever the user had half-typed on the prompt line; readline's unix-line-discard),
 * then the command with each newline as Enter (a terminal sends CR, not LF), then a final Enter.
 */
export function commandAsTyped(command: string): string {
  return `\u0015${command.replace(/\r?\n/g, '\r')}\r`;
}

// The one error type of the cluster metadata cores (layout, access): bad metadata or a refused
// change. Pure. Its own file so that every metadata core can throw it without importing another.

/** Bad metadata or a refused change: the message says what was wrong, with the names. */
export class LayoutError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "LayoutError";
  }
}

/**
 * The one error type of the data layer. Data problems (a missing file, a truncated IDX file,
 * a per-class count larger than the data) are the user's to fix, so the message says which
 * file, what was expected and what was found; callers print `message` as is.
 */
export class DataError extends Error {
  override readonly name = "DataError";

  constructor(
    message: string,
    /** The file or directory the problem is about, when there is one. */
    readonly file: string | null = null,
  ) {
    super(message);
  }
}

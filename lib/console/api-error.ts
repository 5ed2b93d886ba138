/**
 * A failure of the console's API with the answer it becomes: the HTTP status, a stable code and
 * a message a person can act on (ApiErrorBody). Thrown by the API's core and its ports (caught by
 * handleApi) and by the browser's client (web/src/api.ts), which also uses the codes `network`
 * and `bad_response` for failures of its own. No imports: the browser bundle takes it.
 */
export class ApiError extends Error {
  override readonly name = 'ApiError';
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
  ) {
    super(message);
  }
}

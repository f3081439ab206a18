/**
 * A refusal the business understands: a stable code for machines and a Japanese message a clerk can act
 * on. Domain errors never carry an HTTP status; the HTTP layer maps codes to statuses in one table.
 * Messages and details must not contain personal data (names, numbers, addresses): they reach logs.
 */
export class DomainError extends Error {
  readonly code: string;
  readonly details: Readonly<Record<string, unknown>> | undefined;

  constructor(code: string, message: string, details?: Record<string, unknown>) {
    super(message);
    this.name = 'DomainError';
    this.code = code;
    this.details = details ? Object.freeze({ ...details }) : undefined;
  }
}

/** A `get…` that finds nothing throws this. */
export class NotFoundError extends DomainError {
  constructor(code: string, message: string, details?: Record<string, unknown>) {
    super(code, message, details);
    this.name = 'NotFoundError';
  }
}

export function isDomainError(e: unknown): e is DomainError {
  return e instanceof DomainError;
}

/** What a change form hands to the confirmation step. */
export interface Draft {
  /** The change route under /api/changes/. */
  path: string;
  title: string;
  body: Record<string, unknown>;
  /** Label and value rows shown for confirmation, dates with how they are read. */
  summary: Array<[string, string]>;
  /** Names of the persons entered, in order (for the result), when the change enters new persons. */
  names?: string[];
}

/**
 * Runs once before the suite. On PostgreSQL, installs the extensions every test schema shares, so that
 * parallel test files do not race to create them.
 */
import pg from 'pg';

export default async function setup(): Promise<void> {
  const url = process.env['DATABASE_URL'];
  if (!url) return;
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  await client.query('CREATE EXTENSION IF NOT EXISTS pg_trgm WITH SCHEMA public');
  await client.end();
}

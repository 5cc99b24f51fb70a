import type { Context } from '../lib/context';
import type { Section } from '../lib/table';

/** One `--only` id of the bench: a few rows of the table. */
export interface SectionSpec {
  readonly id: string;
  readonly title: string;
  /** Why this run leaves the section out (printed and written to results.md), or undefined to run it. */
  skip?(context: Context): string | undefined | Promise<string | undefined>;
  run(context: Context): Promise<Section>;
}

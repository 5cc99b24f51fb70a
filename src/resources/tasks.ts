import { z } from 'zod';
import type { OwnedResource, OwnedRow } from './owned-resource';
import { iso, isoOrNull, rfc3339, timeOut } from './time';

interface TaskRow extends OwnedRow {
  title: string;
  description: string | null;
  completed: boolean | number;
  due_date: number | null;
}

const title = z.string().trim().min(1).max(200);
const description = z.string().max(10_000).nullable();
const dueDate = rfc3339.nullable();

const taskCreate = z.strictObject({
  title,
  description: description.optional(),
  completed: z.boolean().optional(),
  due_date: dueDate.optional(),
});
const taskPatch = z.strictObject({ title: title.optional(), description: description.optional(), completed: z.boolean().optional(), due_date: dueDate.optional() });
type TaskCreate = z.output<typeof taskCreate>;
type TaskPatch = z.output<typeof taskPatch>;

const filters = z.object({ completed: z.enum(['true', 'false']).optional() });

const taskJson = z.object({
  id: z.string(),
  title: z.string(),
  description: z.string().nullable(),
  completed: z.boolean(),
  due_date: timeOut.nullable(),
  created_at: timeOut,
  updated_at: timeOut,
});

/** SPEC §5.1: tasks, newest first, filterable by `completed`. */
export const tasks: OwnedResource<TaskRow, TaskCreate, TaskPatch, z.output<typeof filters>> = {
  name: 'task',
  path: '/tasks',
  table: 'tasks',
  tag: 'Tasks',
  scopes: { read: 'tasks:read', write: 'tasks:write' },
  createBody: taskCreate,
  patchBody: taskPatch,
  filters,
  response: taskJson,
  order: { column: 'created_at', direction: 'desc' },
  shown: ['id', 'title', 'description', 'completed', 'due_date', 'created_at', 'updated_at'],
  applyFilters(query, { completed }) {
    if (completed !== undefined) query.where({ completed: completed === 'true' });
  },
  createColumns: (input) => ({
    title: input.title,
    description: input.description ?? null,
    completed: input.completed ?? false,
    due_date: input.due_date ?? null,
  }),
  toJson: (row) => ({
    id: row.id,
    title: row.title,
    description: row.description,
    completed: Boolean(row.completed),
    due_date: isoOrNull(row.due_date),
    created_at: iso(row.created_at),
    updated_at: iso(row.updated_at),
  }),
};

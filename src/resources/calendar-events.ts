import { z } from 'zod';
import { validationFailed } from '../errors';
import type { OwnedResource, OwnedRow } from './owned-resource';
import { iso, rfc3339, timeOut } from './time';

interface EventRow extends OwnedRow {
  title: string;
  description: string | null;
  location: string | null;
  status: string;
  start_time: number;
  end_time: number;
}

const STATUSES = ['confirmed', 'tentative', 'cancelled'] as const;
const fields = {
  title: z.string().trim().min(1).max(200),
  description: z.string().max(10_000).nullable(),
  location: z.string().max(500).nullable(),
  status: z.enum(STATUSES),
  start_time: rfc3339,
  end_time: rfc3339,
};

const eventCreate = z.strictObject({
  title: fields.title,
  start_time: fields.start_time,
  end_time: fields.end_time,
  description: fields.description.optional(),
  location: fields.location.optional(),
  status: fields.status.default('confirmed'),
});
const eventPatch = z.strictObject({
  title: fields.title.optional(),
  start_time: fields.start_time.optional(),
  end_time: fields.end_time.optional(),
  description: fields.description.optional(),
  location: fields.location.optional(),
  status: fields.status.optional(),
});

const filters = z.object({ time_min: rfc3339.optional(), time_max: rfc3339.optional() });

const eventJson = z.object({
  id: z.string(),
  title: z.string(),
  start_time: timeOut,
  end_time: timeOut,
  description: z.string().nullable(),
  location: z.string().nullable(),
  status: z.enum(STATUSES),
});

/**
 * SPEC §5.2: events in `start_time` order. The window is half-open, as in
 * calendar APIs: an event is listed when it starts before `time_max` and
 * ends after `time_min`, so one that only touches an end is not.
 */
export const calendarEvents: OwnedResource<EventRow, z.output<typeof eventCreate>, z.output<typeof eventPatch>, z.output<typeof filters>> = {
  name: 'event',
  path: '/calendar/events',
  table: 'calendar_events',
  tag: 'Calendar',
  scopes: { read: 'calendar:read', write: 'calendar:write' },
  createBody: eventCreate,
  patchBody: eventPatch,
  filters,
  response: eventJson,
  order: { column: 'start_time', direction: 'asc' },
  shown: ['id', 'title', 'start_time', 'end_time', 'description', 'location', 'status'],
  applyFilters(query, { time_min: min, time_max: max }) {
    if (min !== undefined) query.where('end_time', '>', min);
    if (max !== undefined) query.where('start_time', '<', max);
  },
  createColumns: (input) => ({
    title: input.title,
    start_time: input.start_time,
    end_time: input.end_time,
    description: input.description ?? null,
    location: input.location ?? null,
    status: input.status,
  }),
  check(row) {
    if (row.end_time < row.start_time) {
      throw validationFailed('The event ends before it starts.', [{ field: 'end_time', message: 'must not be before start_time' }]);
    }
  },
  toJson: (row) => ({
    id: row.id,
    title: row.title,
    start_time: iso(row.start_time),
    end_time: iso(row.end_time),
    description: row.description,
    location: row.location,
    status: row.status,
  }),
};

import { expect } from 'chai';
import type { CalendarEvent } from '../../client/src/index';
import { detailFields, expectError } from '../support/expectations';
import { followPages, startServerWithAlice, userAuth, type Auth } from '../support/resources';
import { onEachDatabase, type TestServer } from '../support/server';

const EVENT_FIELDS = ['id', 'title', 'start_time', 'end_time', 'description', 'location', 'status'];
const day = (time: string) => `2026-03-10T${time}:00Z`;

onEachDatabase('calendar events (SPEC §5.2)', (database) => {
  let server: TestServer;
  let auth: Auth;
  before(async () => ({ server, auth } = await startServerWithAlice(database)));
  after(() => server?.close());

  const create = (body: Record<string, unknown>, as = auth) => server.request.post('/calendar/events').set(as).send(body);
  const patch = (id: string, body: Record<string, unknown>) => server.request.patch(`/calendar/events/${id}`).set(auth).send(body);

  async function createEvent(body: Record<string, unknown>, as = auth): Promise<CalendarEvent> {
    const res = await create(body, as);
    expect(res.status, JSON.stringify(res.body)).to.equal(201);
    return res.body as CalendarEvent;
  }

  /** Asserts a 400 validation_failed whose details name exactly `fields`. */
  function expectInvalid(res: Awaited<ReturnType<typeof create>>, fields: string[]): void {
    expectError(res, 400, 'validation_failed');
    expect(detailFields(res), JSON.stringify(res.body)).to.deep.equal(fields);
  }

  describe('create, read, update, delete', () => {
    it('creates an event with 201, a Location that reads it back, and status confirmed by default', async () => {
      const res = await create({ title: 'Dentist', start_time: day('09:00'), end_time: day('09:30'), location: 'Main St 1' });
      expect(res.status, JSON.stringify(res.body)).to.equal(201);
      expect(res.body).to.have.all.keys(EVENT_FIELDS);
      expect(res.body).to.include({
        title: 'Dentist',
        start_time: '2026-03-10T09:00:00.000Z',
        end_time: '2026-03-10T09:30:00.000Z',
        location: 'Main St 1',
        description: null,
        status: 'confirmed',
      });
      expect(res.headers.location).to.equal(`/calendar/events/${res.body.id}`);
      const read = await server.request.get(res.headers.location as string).set(auth);
      expect(read.status).to.equal(200);
      expect(read.body).to.deep.equal(res.body);
    });

    it('changes only the fields a PATCH names', async () => {
      const event = await createEvent({ title: 'Standup', start_time: day('08:00'), end_time: day('08:15'), description: 'daily' });
      const res = await patch(event.id, { status: 'tentative', location: 'Room 4' });
      expect(res.status, JSON.stringify(res.body)).to.equal(200);
      expect(res.body).to.deep.equal({ ...event, status: 'tentative', location: 'Room 4' });
      expect((await server.request.get(`/calendar/events/${event.id}`).set(auth)).body).to.deep.equal(res.body);
    });

    it('deletes an event with 204, after which it is 404 on every route', async () => {
      const event = await createEvent({ title: 'Gone soon', start_time: day('10:00'), end_time: day('11:00') });
      const res = await server.request.delete(`/calendar/events/${event.id}`).set(auth);
      expect(res.status).to.equal(204);
      expect(res.text).to.equal('');
      expectError(await server.request.get(`/calendar/events/${event.id}`).set(auth), 404, 'not_found');
      expectError(await patch(event.id, { title: 'back' }), 404, 'not_found');
      expectError(await server.request.delete(`/calendar/events/${event.id}`).set(auth), 404, 'not_found');
    });
  });

  describe('times', () => {
    it('accepts RFC 3339 times with offsets and returns them in UTC', async () => {
      const event = await createEvent({ title: 'Offsets', start_time: '2026-01-01T10:00:00+02:00', end_time: '2026-01-01T11:30:00-05:00' });
      expect(event).to.include({ start_time: '2026-01-01T08:00:00.000Z', end_time: '2026-01-01T16:30:00.000Z' });
      const res = await patch(event.id, { start_time: '2026-01-01T09:15:30.250+05:30' });
      expect(res.body.start_time).to.equal('2026-01-01T03:45:30.250Z');
    });

    it('refuses times that are not RFC 3339 with an offset', async () => {
      for (const start of ['2026-01-01T10:00:00', '2026-01-01', 'tomorrow', '1767261600000']) {
        expectInvalid(await create({ title: 'x', start_time: start, end_time: day('10:00') }), ['start_time']);
      }
      expectInvalid(await create({ title: 'x', start_time: day('10:00'), end_time: 1767261600000 }), ['end_time']);
    });

    it('refuses an event that ends before it starts, and accepts one that ends as it starts', async () => {
      expectInvalid(await create({ title: 'Backwards', start_time: day('10:00'), end_time: day('09:59') }), ['end_time']);
      const instant = await createEvent({ title: 'Reminder', start_time: day('10:00'), end_time: '2026-03-10T12:00:00+02:00' });
      expect(instant.end_time).to.equal(instant.start_time);
    });

    it('refuses a PATCH that would make the event end before it starts, and leaves the event unchanged', async () => {
      const event = await createEvent({ title: 'Lunch', start_time: day('12:00'), end_time: day('13:00') });
      expectInvalid(await patch(event.id, { end_time: day('11:00') }), ['end_time']);
      expectInvalid(await patch(event.id, { start_time: day('14:00') }), ['end_time']);
      expect((await server.request.get(`/calendar/events/${event.id}`).set(auth)).body).to.deep.equal(event);
      const moved = await patch(event.id, { start_time: day('14:00'), end_time: day('15:00') });
      expect(moved.status, JSON.stringify(moved.body)).to.equal(200);
    });
  });

  describe('validation', () => {
    it('accepts each SPEC status and refuses any other', async () => {
      for (const status of ['confirmed', 'tentative', 'cancelled']) {
        expect((await createEvent({ title: status, start_time: day('10:00'), end_time: day('11:00'), status })).status).to.equal(status);
      }
      expectInvalid(await create({ title: 'x', start_time: day('10:00'), end_time: day('11:00'), status: 'maybe' }), ['status']);
      const event = await createEvent({ title: 'Status', start_time: day('10:00'), end_time: day('11:00') });
      expectInvalid(await patch(event.id, { status: 'CANCELLED' }), ['status']);
      expect((await patch(event.id, { status: 'cancelled' })).body.status).to.equal('cancelled');
    });

    it('requires a title and both times, and refuses unknown fields', async () => {
      expectInvalid(await create({ start_time: day('10:00'), end_time: day('11:00') }), ['title']);
      expectInvalid(await create({ title: 'x', end_time: day('11:00') }), ['start_time']);
      expectInvalid(await create({ title: 'x'.repeat(201), start_time: day('10:00'), end_time: day('11:00') }), ['title']);
      expectError(await create({ title: 'x', start_time: day('10:00'), end_time: day('11:00'), all_day: true }), 400, 'validation_failed');
    });
  });

  describe('the time window', () => {
    let planner: Auth;
    // The window is 10:00–12:00 on 2026-03-10; each event's title says where it lies.
    const EVENTS: Array<[string, string, string]> = [
      ['after', '13:00', '14:00'],
      ['straddles time_max', '11:30', '12:30'],
      ['ends at time_min', '09:00', '10:00'],
      ['inside', '10:15', '11:00'],
      ['starts at time_max', '12:00', '13:00'],
      ['covers the window', '08:00', '14:00'],
      ['before', '07:00', '08:00'],
      ['straddles time_min', '09:30', '10:30'],
      ['instant inside', '11:00', '11:00'],
    ];
    const window = (query: Record<string, string>) => server.request.get('/calendar/events').query(query).set(planner);
    const titles = (res: { body: CalendarEvent[] }) => res.body.map((event) => event.title);

    before(async () => {
      planner = (await userAuth(server, 'planner')).auth;
      for (const [title, start, end] of EVENTS) await createEvent({ title, start_time: day(start), end_time: day(end) }, planner);
    });

    it('lists the events overlapping the window, ascending by start_time; the edges are half-open', async () => {
      const res = await window({ time_min: day('10:00'), time_max: day('12:00') });
      expect(res.status).to.equal(200);
      expect(titles(res)).to.deep.equal(['covers the window', 'straddles time_min', 'inside', 'instant inside', 'straddles time_max']);
    });

    it('reads window bounds with offsets as the same instants', async () => {
      const res = await window({ time_min: '2026-03-10T12:00:00+02:00', time_max: '2026-03-10T07:00:00-05:00' });
      expect(titles(res)).to.deep.equal(['covers the window', 'straddles time_min', 'inside', 'instant inside', 'straddles time_max']);
    });

    it('bounds the window on one side only when only time_min or time_max is given', async () => {
      expect(titles(await window({ time_min: day('12:00') }))).to.deep.equal(['covers the window', 'straddles time_max', 'starts at time_max', 'after']);
      expect(titles(await window({ time_max: day('09:00') }))).to.deep.equal(['before', 'covers the window']);
    });

    it('lists every event ascending by start_time without a window, across pages', async () => {
      const pages = await followPages<CalendarEvent>(server, planner, '/calendar/events?limit=4', 5);
      expect(pages.map((page) => page.length)).to.deep.equal([4, 4, 1]);
      const starts = pages.flat().map((event) => Date.parse(event.start_time));
      expect(starts).to.deep.equal([...starts].sort((a, b) => a - b));
      expect(new Set(pages.flat().map((event) => event.id)).size).to.equal(EVENTS.length);
    });

    it('keeps the window in the next-page link', async () => {
      const pages = await followPages<CalendarEvent>(server, planner, `/calendar/events?time_min=${day('10:00')}&time_max=${day('12:00')}&limit=2`, 5);
      expect(pages.flat().map((event) => event.title)).to.deep.equal(['covers the window', 'straddles time_min', 'inside', 'instant inside', 'straddles time_max']);
    });

    it('refuses a window bound that is not an RFC 3339 time', async () => {
      expectInvalid(await window({ time_min: 'yesterday' }), ['time_min']);
      expectInvalid(await window({ time_max: '2026-03-10' }), ['time_max']);
    });
  });
});

import type { CalendarEvent, CalendarEventInput, Conversation, Message, MessageInput, PageQuery, Task, TaskInput } from './types.js';

/** How the resource methods reach the server (TesseraClient.request). */
export type Requester = <T>(method: string, path: string, body?: unknown) => Promise<T>;

type Query = Record<string, string | number | boolean | undefined>;

/** `?a=1&b=2` from the defined values, or nothing. */
function query(values: Query = {}): string {
  const params = new URLSearchParams();
  for (const [name, value] of Object.entries(values)) if (value !== undefined) params.set(name, String(value));
  const text = params.toString();
  return text ? `?${text}` : '';
}

const at = (path: string, id: string) => `${path}/${encodeURIComponent(id)}`;

/** The five methods of an owned resource (SPEC §5.1, §5.2). */
function owned<T, Input, Filters extends Query>(request: Requester, path: string) {
  return {
    list: (filters?: Filters & PageQuery) => request<T[]>('GET', path + query(filters)),
    get: (id: string) => request<T>('GET', at(path, id)),
    create: (input: Input) => request<T>('POST', path, input),
    update: (id: string, patch: Input) => request<T>('PATCH', at(path, id), patch),
    delete: (id: string) => request<void>('DELETE', at(path, id)),
  };
}

/** Typed methods for tasks, calendar events, conversations and messages. */
export function resources(request: Requester) {
  return {
    tasks: owned<Task, TaskInput, { completed?: boolean }>(request, '/tasks'),
    calendar: owned<CalendarEvent, CalendarEventInput, { time_min?: string; time_max?: string }>(request, '/calendar/events'),
    conversations: {
      list: (page?: PageQuery) => request<Conversation[]>('GET', `/conversations${query({ ...page })}`),
      create: (input: { title?: string; members: string[] }) => request<Conversation>('POST', '/conversations', input),
    },
    messages: {
      /** Members only, ascending by `seq`. */
      list: (sessionId: string, page: { after_seq?: number; limit?: number } = {}) => request<Message[]>('GET', at('/messages', sessionId) + query(page)),
      /** Posts over REST; the same `nonce` again returns the first message. */
      send: (sessionId: string, input: MessageInput) => request<Message>('POST', at('/messages', sessionId), input),
    },
  };
}

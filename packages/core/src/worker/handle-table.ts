import { HandleRef } from './driver.js';

interface Entry {
  object: object;
  kind: string;
  sessionId: number;
}

// One table per worker (not per session): handles returned by stateless calls belong to no
// session, and a session's own handles are found the same way.
let nextId = 1;
const entries = new Map<number, Entry>();

export function addHandle(
  object: object,
  kind: string,
  meta: unknown,
  sessionId: number,
): HandleRef {
  const id = nextId++;
  entries.set(id, { object, kind, sessionId });
  return new HandleRef(id, kind, meta);
}

export function getHandle(id: number): Entry | undefined {
  return entries.get(id);
}

export function removeHandle(id: number): Entry | undefined {
  const entry = entries.get(id);
  entries.delete(id);
  return entry;
}

export function handlesOfSession(sessionId: number): number[] {
  const ids: number[] = [];
  for (const [id, entry] of entries) if (entry.sessionId === sessionId) ids.push(id);
  return ids;
}

import { createContext } from 'preact';
import { useContext } from 'preact/hooks';
import type { Role, User } from './api.ts';

export interface SessionInfo {
  me: User;
  /** What the signed-in user may do: members read, developers manage keys and clients, admins everything. */
  can: (need: Role) => boolean;
}

export const Session = createContext<SessionInfo | null>(null);

export function useSession(): SessionInfo {
  const s = useContext(Session);
  if (!s) throw new Error('no session');
  return s;
}

const RANK: Record<Role, number> = { member: 0, developer: 1, admin: 2 };
export const allows = (role: Role, need: Role) => RANK[role] >= RANK[need];

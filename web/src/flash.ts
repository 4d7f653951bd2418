// A message that survives one navigation (the greeting after signing in, "signed out").
import { useEffect, useState } from "preact/hooks";

let message: string | null = null;
const listeners = new Set<(m: string | null) => void>();

export function flash(m: string | null): void {
  message = m;
  for (const l of listeners) l(m);
}

export function useFlash(): string | null {
  const [m, set] = useState(message);
  useEffect(() => {
    listeners.add(set);
    return () => {
      listeners.delete(set);
    };
  }, []);
  return m;
}

import { useSyncExternalStore } from "react";

import { api } from "../api";

function subscribe(listener: () => void): () => void {
  return api.session.subscribe(() => listener());
}

/** Whether the user is signed in (or can be, with the stored refresh token). */
export function useSignedIn(): boolean {
  return useSyncExternalStore(subscribe, () => api.session.signedIn);
}

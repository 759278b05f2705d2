/**
 * The admin token in the browser: typed into the page's sign-in form, kept in sessionStorage (this tab
 * only, gone when it closes; "Sign out" forgets it), sent only as `Authorization: Bearer` to the admin
 * API of this origin. It never goes into a URL, a cookie or a WebSocket handshake.
 */
import { byId } from "./view-dom.ts";

const STORAGE_KEY = "nova-phone.admin-token";

export class Unauthorized extends Error {
  override readonly name = "Unauthorized";
}

export class AdminSession {
  readonly #token: string;

  constructor(token: string) {
    this.#token = token;
  }

  /** Calls the admin API; a 401 throws Unauthorized (the page then asks for the token again). */
  async fetch(path: string, init: RequestInit = {}): Promise<Response> {
    const headers = new Headers(init.headers);
    headers.set("Authorization", `Bearer ${this.#token}`);
    const response = await fetch(path, { ...init, headers, credentials: "omit", cache: "no-store" });
    if (response.status === 401) {
      sessionStorage.removeItem(STORAGE_KEY);
      throw new Unauthorized("the admin token was refused");
    }
    return response;
  }

  async json(path: string, init: RequestInit = {}): Promise<unknown> {
    const response = await this.fetch(path, init);
    if (!response.ok) throw new Error(`${init.method ?? "GET"} ${path}: HTTP ${response.status}`);
    return response.json();
  }
}

/**
 * Shows the sign-in form until a token the edge accepts is entered (or one is in sessionStorage), then
 * hides it and resolves. The page's HTML has #signin (a form with #token) and #signout.
 */
export async function signIn(): Promise<AdminSession> {
  const form = byId("signin", HTMLFormElement);
  const input = byId("token", HTMLInputElement);
  const problem = byId("signin-problem", HTMLElement);
  const signOut = byId("signout", HTMLButtonElement);
  signOut.onclick = () => {
    sessionStorage.removeItem(STORAGE_KEY);
    location.reload();
  };
  const check = async (token: string): Promise<AdminSession | null> => {
    const session = new AdminSession(token);
    try {
      await session.json("/calls?limit=1");
      return session;
    } catch (error) {
      problem.textContent = error instanceof Unauthorized ? "That token was refused." : String(error);
      return null;
    }
  };
  const stored = sessionStorage.getItem(STORAGE_KEY);
  const restored = stored ? await check(stored) : null;
  if (restored) {
    form.hidden = true;
    signOut.hidden = false;
    return restored;
  }
  form.hidden = false;
  return new Promise((resolve) => {
    form.onsubmit = async (event) => {
      event.preventDefault();
      const token = input.value.trim();
      if (token === "") return;
      const session = await check(token);
      if (!session) return;
      sessionStorage.setItem(STORAGE_KEY, token);
      input.value = "";
      form.hidden = true;
      signOut.hidden = false;
      resolve(session);
    };
  });
}

// Log in with a password (POST /auth/token, OAuth2 password flow) or an API key; the token is kept
// in this tab's sessionStorage only.
import { api, auth, whoami } from "./common.js";

const form = document.getElementById("login-form");
const status = document.getElementById("login-status");

form.addEventListener("submit", async (ev) => {
  ev.preventDefault();
  status.textContent = "登录中… logging in";
  const key = form.apikey.value.trim();
  try {
    let token = key;
    if (!key) {
      const body = new URLSearchParams({ username: form.username.value, password: form.password.value });
      const res = await fetch("/auth/token", { method: "POST", body });
      const data = await res.json();
      if (!res.ok) throw new Error(data?.error?.message || `HTTP ${res.status}`);
      token = data.access_token;
    }
    auth.set(token, null);
    const me = await whoami();
    if (!me) throw new Error("凭据无效 invalid credentials");
    status.textContent = `已登录 logged in: ${me.name} (${me.role})`;
    location.assign(sameSite(form.dataset.next));
  } catch (e) {
    auth.clear();
    status.textContent = `登录失败 failed: ${e.message}`;
  }
});

document.getElementById("logout").addEventListener("click", () => {
  auth.clear();
  status.textContent = "已退出 logged out";
  const who = document.getElementById("who");
  if (who) who.textContent = "";
});

// Only a path on this site: one leading "/", never "//" or a backslash (browsers read "/\x" as "//x").
function sameSite(next) {
  return next && /^\/(?![\/\\])[^\\\s]*$/.test(next) ? next : "/";
}

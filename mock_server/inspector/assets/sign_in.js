// Signing in to an inspector whose admin API has a token: the token (from the link's fragment,
// which never leaves the browser, or typed in) is exchanged once for a session cookie.
(() => {
  const base = document.body.dataset.base;
  const form = document.getElementById("sign-in-form");
  const message = document.getElementById("notice");

  async function signIn(token) {
    const answer = await fetch(`${base}/inspector/session`, {
      method: "POST",
      headers: { Authorization: `Bearer ${token}`, "Content-Type": "application/json" },
      body: "{}",
    });
    if (answer.ok) {
      history.replaceState(null, "", location.pathname + location.search);
      location.reload();
    } else {
      message.textContent = `the token was refused (${answer.status})`;
    }
  }

  const fromLink = new URLSearchParams(location.hash.slice(1)).get("token");
  if (fromLink) signIn(fromLink);
  form.addEventListener("submit", (event) => {
    event.preventDefault();
    signIn(form.token.value);
  });
})();

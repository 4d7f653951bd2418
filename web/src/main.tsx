import { render } from "preact";
import { App } from "./app";
import { refresh } from "./api/session";
import "./style.css";

// Restore the session from the refresh cookie before anything asks who is signed in;
// without a cookie (or before the login function sets one) this settles as signed out.
void refresh();
render(<App />, document.getElementById("app")!);

//! The demo's chat on the Rust API: a room with presence, messages and a ping, in Leptos (client-side rendering).
//! The page's server serves the PondSocket endpoint at `/socket` (scripts/demo.sh --rust); `?name=` names you and
//! `?room=` picks the room.

use leptos::prelude::*;
use pondsocket_web::{Client, ConnectionState, JsonObject, Options};
use serde::{Deserialize, Serialize};

/// A chat message, as the JS demo sends it.
#[derive(Clone, Debug, Serialize, Deserialize)]
struct Chat {
    name: String,
    text: String,
}

/// Someone present: the join params the server tracks (plus its own `id`, ignored here).
#[derive(Clone, Debug, Deserialize)]
struct Member {
    name: String,
}

fn query(key: &str) -> Option<String> {
    let search = window().location().search().ok()?;
    search.trim_start_matches('?').split('&').find_map(|pair| {
        let (k, v) = pair.split_once('=')?;
        (k == key).then(|| v.replace('+', " "))
    })
}

fn now_ms() -> f64 {
    window().performance().map(|p| p.now()).unwrap_or_default()
}

#[component]
fn App() -> impl IntoView {
    let name = query("name").unwrap_or_else(|| "rustacean".into());
    let room = query("room").map(|r| format!("/chat/{r}")).unwrap_or_else(|| "/chat/lobby".into());
    let (state, set_state) = signal(ConnectionState::Disconnected);
    let (messages, set_messages) = signal(Vec::<Chat>::new());
    let (members, set_members) = signal(Vec::<String>::new());
    let (ping, set_ping) = signal(None::<f64>);
    let (problem, set_problem) = signal(None::<String>);
    let (draft, set_draft) = signal(String::new());

    let client = Client::new("/socket", &[("token", "demo")], Options::default()).expect("the page's own endpoint");
    client.on_connection_change(move |s| set_state.set(s)).forget();
    client.on_error(move |e| set_problem.set(Some(e.to_string()))).forget();
    client.connect();
    let params = JsonObject::from_serialize(&serde_json::json!({ "name": name })).expect("an object");
    let chat = client.create_channel(&room, &params).expect("a room name");
    chat.on::<Chat>("message", move |m| set_messages.update(|all| all.push(m))).forget();
    chat.on_users::<Member>(move |list| set_members.set(list.into_iter().map(|m| m.name).collect())).forget();
    if let Err(e) = chat.join() {
        set_problem.set(Some(e.to_string()));
    }
    // The handles live as long as the page: dropping the last one would disconnect.
    let chat = StoredValue::new_local(chat);
    let _client = StoredValue::new_local(client);

    let me = name.clone();
    let send = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        let text = draft.get_untracked();
        if text.trim().is_empty() {
            return;
        }
        let message = Chat { name: me.clone(), text };
        chat.with_value(|c| {
            if let Err(e) = c.send("message", &message) {
                set_problem.set(Some(e.to_string()));
            }
        });
        set_draft.set(String::new());
    };
    let do_ping = move |_| {
        let request = chat.with_value(|c| c.request::<serde_json::Value, _>("ping", &serde_json::json!({}), Some(5_000)));
        let started = now_ms();
        leptos::task::spawn_local(async move {
            match request.await {
                Ok(_) => set_ping.set(Some(now_ms() - started)),
                Err(e) => set_problem.set(Some(e.to_string())),
            }
        });
    };

    view! {
        <main>
            <h1>"PondSocket chat, from Rust"</h1>
            <p>
                "You are " <b data-testid="me">{name.clone()}</b> " in " <code>{room.clone()}</code> ": "
                <span data-testid="connection">{move || state.get().as_str()}</span>
            </p>
            <h2>"Here"</h2>
            <ul data-testid="presence">
                {move || members.get().into_iter().map(|m| view! { <li data-testid="presence-item">{m}</li> }).collect_view()}
            </ul>
            <h2>"Messages"</h2>
            <ul data-testid="messages">
                {move || messages.get().into_iter().map(|m| view! {
                    <li data-testid="message"><b>{m.name}</b> ": " {m.text}</li>
                }).collect_view()}
            </ul>
            <form on:submit=send>
                <input data-testid="message-input" prop:value=move || draft.get()
                    on:input=move |ev| set_draft.set(event_target_value(&ev)) />
                <button data-testid="send" type="submit">"Send"</button>
            </form>
            <p>
                <button data-testid="ping" on:click=do_ping>"Ping"</button>
                <span data-testid="ping-result">
                    {move || ping.get().map(|ms| format!("round trip {ms:.1} ms")).unwrap_or_default()}
                </span>
            </p>
            <p data-testid="problem">{move || problem.get().unwrap_or_default()}</p>
        </main>
    }
}

fn main() {
    leptos::mount::mount_to_body(App);
}

//! The README's walkthrough, pasted as a newcomer pastes it: every `sh` block after the two
//! first commands, in order, in one shell, against a running `hmis dev`, twice (a second
//! paste must not register a second patient). `hmis` is the binary, found as the README
//! says (the file `hmis dev` wrote, from the working directory); `scripts/` as in a checkout.

use super::harness::{Dev, free_port, scratch};
use super::{TURN, copy_of, initialized};

/// The README's `sh` blocks but the first (`cargo run -- dev`, `./scripts/test`), with the
/// port of this test's `hmis dev` instead of 8000.
fn walkthrough(port: u16) -> String {
    let readme = include_str!("../../../README.md");
    let blocks: Vec<&str> = readme
        .split("```sh\n")
        .skip(1)
        .map(|rest| rest.split("```").next().unwrap())
        .collect();
    assert!(blocks.len() > 3, "the README lost its walkthrough");
    let body = blocks[1..].join("\n");
    body.replace("localhost:8000", &format!("localhost:{port}"))
        .replace("127.0.0.1:8000", &format!("127.0.0.1:{port}"))
}

#[tokio::test]
async fn the_readme_walkthrough_works_pasted_into_a_shell_twice() {
    let mut turn = TURN.lock().await;
    let dir = copy_of(&initialized(&mut turn).await);
    let port = free_port();
    let mut dev = Dev::start(&dir, port);
    dev.wait_ready().await;
    // The walkthrough runs where a newcomer runs it: a folder whose .hmis/dev is hmis dev's.
    let home = scratch("readme");
    std::fs::create_dir_all(home.join(".hmis")).unwrap();
    std::os::unix::fs::symlink(&dir, home.join(".hmis/dev")).unwrap();
    // And from a checkout: `scripts/ws-tail` is the real-time example's client.
    let scripts = concat!(env!("CARGO_MANIFEST_DIR"), "/scripts");
    std::os::unix::fs::symlink(scripts, home.join("scripts")).unwrap();
    let script = format!(
        "set -euo pipefail\nhmis() {{ '{}' \"$@\"; }}\n{}",
        env!("CARGO_BIN_EXE_hmis"),
        walkthrough(port)
    );
    let mut ids = Vec::new();
    for paste in ["first", "second"] {
        let out = tokio::process::Command::new("bash")
            .args(["-c", &script])
            .current_dir(&home)
            .output()
            .await
            .unwrap();
        let stdout = String::from_utf8_lossy(&out.stdout);
        let stderr = String::from_utf8_lossy(&out.stderr);
        let all = format!("{paste} paste\n--- stdout\n{stdout}\n--- stderr\n{stderr}");
        assert!(out.status.success(), "{all}");
        for expected in [
            "HTTP/1.1 201 Created",               // registered (or the same one again)
            "x-hmis-region: quthing",             // placed by the rules
            "(1 row)",                            // one Palesa in the region's database
            "nurse.quthing may not read",         // the 403 for Maseru
            "\"outcome\":{\"region\":\"maseru\"", // the explanation
            "\"code\":\"39156-5\"",               // the BMI from weight and height
            "\"status\":\"ready\"",               // readyz
            "planner  planner  [planner in *]",   // hmis users list found the databases
            "\"_summary\"",                       // the planners' query
            "\"type\":\"subscribed\"",            // ws-tail's subscribe acknowledged
            "\"kind\":\"observation\"",           // the change after the read, followed
            "\"events\":[{",                      // the long-poll answered it at once
        ] {
            assert!(all.contains(expected), "{expected} missing: {all}");
        }
        assert!(!all.contains("\"status\":5"), "a 5xx: {all}");
        // The walkthrough echoes the registered patient's ID first.
        ids.push(stdout.lines().next().unwrap_or_default().to_owned());
        // Real time: the change reached both ws-tail and the long-poll, as an event of her.
        let topic = format!("\"topic\":\"patient:{}\"", ids[ids.len() - 1]);
        assert!(stdout.matches(&topic).count() >= 2, "{topic} twice: {all}");
    }
    assert_eq!(
        ids[0], ids[1],
        "the second paste registered another patient"
    );
    assert_eq!(dev.interrupt(), Some(130), "{}", dev.output());
}

//! Variables: `fermyon:spin/variables@2.0.0`, `spin:variables@3.0.0` and
//! `wasi:config/store` (Spin's draft), from defaults and `SPIN_VARIABLE_*`,
//! with Spin's errors; required variables without a value refused at start.

use super::{SDKS, manifest_with};
use crate::common::{HostBuilder, up_refused};

const VARIABLES: &str = "greeting = { default = \"hi\" }\nlimit = { default = \"50\" }";
const GRANTS: &str =
    "variables = { greeting = \"{{ greeting }}\", label = \"at most {{ limit }} items\" }";

#[test]
fn variables_from_defaults_and_the_environment_with_spins_errors() {
    let dir = tempfile::tempdir().expect("dir");
    let manifest = manifest_with(dir.path(), VARIABLES, GRANTS);
    let host = HostBuilder::manifest(manifest.clone()).start();
    for sdk in SDKS {
        assert_eq!(
            host.get(&format!("{sdk}/vars/greeting")).body,
            "hi",
            "{sdk}"
        );
        assert_eq!(
            host.get(&format!("{sdk}/vars/label")).body,
            "at most 50 items",
            "{sdk}"
        );
        let undefined = host.get(&format!("{sdk}/vars/limit"));
        assert_eq!(
            (undefined.status, undefined.body.as_str()),
            (
                409,
                &*format!(
                    "Error::Undefined(\"no variable for \\\"spin-{}\\\".\\\"limit\\\"\")",
                    &sdk[1..]
                )
            ),
            "{sdk}: only the component's own variables"
        );
        let invalid = host.get(&format!("{sdk}/vars/Greeting"));
        assert_eq!(invalid.status, 409, "{sdk}");
        assert!(
            invalid
                .body
                .starts_with("Error::InvalidName(\"\\\"Greeting\\\": invalid character 'G'"),
            "{sdk}: {}",
            invalid.body
        );
    }
    assert_eq!(host.get("/v2/config/greeting").body, "hi");
    assert_eq!(
        host.get("/v2/config/limit").status,
        404,
        "wasi:config: undefined is absent"
    );
    drop(host);

    let host = HostBuilder::manifest(manifest)
        .env("SPIN_VARIABLE_GREETING", "hello from the environment")
        .env("SPIN_VARIABLE_LIMIT", "7")
        .start();
    for sdk in SDKS {
        assert_eq!(
            host.get(&format!("{sdk}/vars/greeting")).body,
            "hello from the environment",
            "{sdk}"
        );
        assert_eq!(
            host.get(&format!("{sdk}/vars/label")).body,
            "at most 7 items",
            "{sdk}"
        );
    }
    assert_eq!(
        host.get("/v2/config/greeting").body,
        "hello from the environment"
    );
}

#[test]
fn required_variables_without_a_value_are_refused_at_start_by_name() {
    let dir = tempfile::tempdir().expect("dir");
    let manifest = manifest_with(
        dir.path(),
        "token = { required = true, secret = true }\napi_key = { required = true }\ngreeting = { default = \"hi\" }",
        "variables = { greeting = \"{{ greeting }}\" }",
    );
    let stderr = up_refused(&manifest, &[]);
    assert!(
        stderr.contains("required variables have no value: `api_key`, `token`; set SPIN_VARIABLE_API_KEY, SPIN_VARIABLE_TOKEN in the environment"),
        "{stderr}"
    );
}

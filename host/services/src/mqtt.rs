//! Outbound MQTT, as Spin provides it: `fermyon:spin/mqtt@2.0.0` (spin-sdk
//! 5) and `spin:mqtt/mqtt@3.0.0` (spin-sdk 6+, async), to a broker at an
//! address `allowed_outbound_hosts` names (`mqtt://host:port?client_id=…`).
//! `open` checks in Spin's order (`crates/factor-outbound-mqtt/src/host.rs`
//! and `lib.rs`): an address not granted (or not readable as a URL) is
//! `connection-failed("address … is not permitted")`; a granted one that
//! rumqttc cannot read as an MQTT URL with a client id is `invalid-address`;
//! then the instance's connection limit. `publish` returns once the
//! broker has the message as the QoS asks: sent (at most once), acknowledged
//! (at least once) or completed (exactly once). Plain TCP, no TLS.

use super::allowed_hosts::AllowedHosts;
use super::{GrantContext, HasService, Service, ServiceConfig, ServiceView};
use crate::handles::OpenHandles;
use rumqttc::{AsyncClient, Event, EventLoop, Incoming, MqttOptions, Outgoing, QoS};
use std::sync::Arc;
use std::time::Duration;
use wasmtime::component::{Accessor, HasData, Linker, Resource};

mod generated {
    wasmtime::component::bindgen!({
        path: ["../../wit/platform", "../../wit/host"],
        world: "cloudfn:host/mqtt",
        imports: { default: async | trappable },
        with: {
            "fermyon:spin/mqtt.connection": crate::mqtt::Connection,
            "spin:mqtt/mqtt.connection": crate::mqtt::Connection,
        },
    });
}

use generated::fermyon::spin::mqtt as v2;
use generated::spin::mqtt::mqtt as v3;

/// Most connections one instance may hold open at once.
pub const MAX_OPEN_CONNECTIONS: usize = 64;

/// Why an MQTT operation failed (both interfaces have these cases).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum MqttError {
    /// Granted, but not an MQTT URL with a client id.
    InvalidAddress,
    /// The instance holds [`MAX_OPEN_CONNECTIONS`] connections.
    TooManyConnections,
    /// The address is not granted, or the broker could not be reached or
    /// refused the client.
    ConnectionFailed(String),
    /// Anything else.
    Other(String),
}

/// One open connection (the guest's `connection` resource).
#[derive(Clone)]
pub struct Connection {
    client: AsyncClient,
    events: Arc<tokio::sync::Mutex<EventLoop>>,
}

impl Connection {
    fn open(
        address: &str,
        username: String,
        password: String,
        keep_alive: u64,
    ) -> Result<Self, MqttError> {
        let mut options = MqttOptions::parse_url(address).map_err(|_| MqttError::InvalidAddress)?;
        if !username.is_empty() || !password.is_empty() {
            options.set_credentials(username, password);
        }
        options.set_keep_alive(Duration::from_secs(keep_alive));
        let (client, events) = AsyncClient::new(options, 64);
        Ok(Self {
            client,
            events: Arc::new(tokio::sync::Mutex::new(events)),
        })
    }

    /// Publishes and drives the connection until the QoS is met.
    async fn publish(&self, topic: String, payload: Vec<u8>, qos: QoS) -> Result<(), MqttError> {
        self.client
            .publish(topic, qos, false, payload)
            .await
            .map_err(|e| MqttError::Other(e.to_string()))?;
        let mut events = self.events.lock().await;
        loop {
            let event = events
                .poll()
                .await
                .map_err(|e| MqttError::ConnectionFailed(e.to_string()))?;
            match (qos, event) {
                (QoS::AtMostOnce, Event::Outgoing(Outgoing::Publish(_)))
                | (QoS::AtLeastOnce, Event::Incoming(Incoming::PubAck(_)))
                | (QoS::ExactlyOnce, Event::Incoming(Incoming::PubComp(_))) => return Ok(()),
                _ => {}
            }
        }
    }
}

/// One instance's state.
pub struct MqttInstance {
    allowed: AllowedHosts,
    open: OpenHandles,
}

impl MqttInstance {
    fn open(
        &self,
        address: &str,
        username: String,
        password: String,
        keep_alive: u64,
    ) -> Result<Connection, MqttError> {
        if !self.allowed.check_url(address, "mqtt") {
            return Err(MqttError::ConnectionFailed(format!(
                "address {address} is not permitted"
            )));
        }
        let connection = Connection::open(address, username, password, keep_alive)?;
        if self.open.reached(MAX_OPEN_CONNECTIONS) {
            return Err(MqttError::TooManyConnections);
        }
        Ok(connection)
    }
}

/// The service.
pub struct Mqtt;

impl Service for Mqtt {
    type Grant = AllowedHosts;
    type Instance = MqttInstance;

    fn new(_: &ServiceConfig) -> Result<Self, String> {
        Ok(Self)
    }

    fn grant(&self, ctx: &GrantContext<'_>) -> Result<AllowedHosts, String> {
        AllowedHosts::of(ctx)
    }

    fn instance(&self, grant: &AllowedHosts) -> MqttInstance {
        MqttInstance {
            allowed: grant.clone(),
            open: OpenHandles::default(),
        }
    }

    fn add_to_linker<T: HasService<Self>>(linker: &mut Linker<T>) -> wasmtime::Result<()> {
        generated::Mqtt::add_to_linker::<T, HasMqtt>(linker, <T as HasService<Mqtt>>::view)
    }
}

/// What the MQTT host functions see of an instance.
pub type MqttView<'a> = ServiceView<'a, MqttInstance>;

/// The [`HasData`] marker of [`MqttView`].
pub struct HasMqtt;

impl HasData for HasMqtt {
    type Data<'a> = MqttView<'a>;
}

impl MqttView<'_> {
    fn push(&mut self, connection: Connection) -> wasmtime::Result<Resource<Connection>> {
        self.state.open.push(self.table, connection)
    }

    fn connection(&self, resource: &Resource<Connection>) -> wasmtime::Result<Connection> {
        OpenHandles::get(self.table, resource)
    }

    fn close(&mut self, resource: Resource<Connection>) -> wasmtime::Result<()> {
        self.state.open.close::<Connection, _>(self.table, resource)
    }
}

/// Maps [`MqttError`] and the QoS onto one interface's types (both have the same cases).
macro_rules! conversions {
    ($module:ident) => {
        impl From<MqttError> for $module::Error {
            fn from(e: MqttError) -> Self {
                match e {
                    MqttError::InvalidAddress => $module::Error::InvalidAddress,
                    MqttError::TooManyConnections => $module::Error::TooManyConnections,
                    MqttError::ConnectionFailed(m) => $module::Error::ConnectionFailed(m),
                    MqttError::Other(m) => $module::Error::Other(m),
                }
            }
        }

        impl From<$module::Qos> for QoS {
            fn from(qos: $module::Qos) -> Self {
                match qos {
                    $module::Qos::AtMostOnce => QoS::AtMostOnce,
                    $module::Qos::AtLeastOnce => QoS::AtLeastOnce,
                    $module::Qos::ExactlyOnce => QoS::ExactlyOnce,
                }
            }
        }
    };
}
conversions!(v2);
conversions!(v3);

impl v2::Host for MqttView<'_> {}

impl v2::HostConnection for MqttView<'_> {
    async fn open(
        &mut self,
        address: String,
        username: String,
        password: String,
        keep_alive: u64,
    ) -> wasmtime::Result<Result<Resource<Connection>, v2::Error>> {
        match self.state.open(&address, username, password, keep_alive) {
            Ok(connection) => Ok(Ok(self.push(connection)?)),
            Err(e) => Ok(Err(e.into())),
        }
    }

    async fn publish(
        &mut self,
        c: Resource<Connection>,
        topic: String,
        payload: Vec<u8>,
        qos: v2::Qos,
    ) -> wasmtime::Result<Result<(), v2::Error>> {
        Ok(self
            .connection(&c)?
            .publish(topic, payload, qos.into())
            .await
            .map_err(Into::into))
    }

    async fn drop(&mut self, c: Resource<Connection>) -> wasmtime::Result<()> {
        self.close(c)
    }
}

impl v3::Host for MqttView<'_> {}

impl v3::HostConnection for MqttView<'_> {
    async fn drop(&mut self, c: Resource<Connection>) -> wasmtime::Result<()> {
        self.close(c)
    }
}

impl<T> v3::HostConnectionWithStore<T> for HasMqtt {
    async fn open(
        accessor: &Accessor<T, Self>,
        address: String,
        username: String,
        password: String,
        keep_alive: u64,
    ) -> wasmtime::Result<Result<Resource<Connection>, v3::Error>> {
        accessor.with(|mut access| {
            let mut view = access.get();
            match view.state.open(&address, username, password, keep_alive) {
                Ok(connection) => view.push(connection).map(Ok),
                Err(e) => Ok(Err(e.into())),
            }
        })
    }

    async fn publish(
        accessor: &Accessor<T, Self>,
        c: Resource<Connection>,
        topic: String,
        payload: Vec<u8>,
        qos: v3::Qos,
    ) -> wasmtime::Result<Result<(), v3::Error>> {
        let connection = accessor.with(|mut access| access.get().connection(&c))?;
        Ok(connection
            .publish(topic, payload, qos.into())
            .await
            .map_err(Into::into))
    }
}

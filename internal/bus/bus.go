// Package bus carries evcrm's commands and events over watermill.
//
// # What travels
//
//   - Commands, on "evcrm.commands.<CommandType>". The bus's command
//     processor hands them to the same *commands.Dispatcher the HTTP API uses,
//     so every command handler is registered once and served from both. The
//     message UUID is the command ID (a redelivered command is a no-op); the
//     metadata carries correlation and causation IDs, actor, role, source,
//     tenant and occurred-at (see the Key* constants). A sender that wants an
//     answer uses SendWithReply and gets a Reply on "evcrm.replies.<CommandType>".
//   - Events, on "evcrm.events.<category>", published by the Forwarder from
//     the event store's global log, in order, from a durable checkpoint in
//     PostgreSQL. The message UUID is the event ID; the metadata names the
//     event type (its stable name, never a Go type path), schema version,
//     stream, version and position, and the event's metadata.
//
// Process managers (package process) consume events with event handlers
// added by AddEventHandlers and act by sending commands with Send.
//
// # Transports
//
// The default transport is in-process (watermill's gochannel): publishing
// blocks until every subscriber has acknowledged, which keeps each topic in
// order and lets the forwarder checkpoint only what was handled. EVCRM_BUS
// selects a broker instead, so that several evcrm processes share the work:
// "nats" (NATS JetStream: a stream per topic, a durable consumer per handler
// name) or "amqp" (RabbitMQ: a durable queue per handler name); see
// transport.go, transport_nats.go and transport_amqp.go.
//
// # Reliability
//
// Cross-cutting concerns are router middleware, not handler code:
// correlation IDs, a poison queue ("evcrm.poison"), logging, retry with
// exponential backoff and panic recovery (see middlewares). Handler names are
// permanent: on a broker they name the consumer groups / queues.
package bus

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"time"

	"github.com/ThreeDotsLabs/watermill"
	"github.com/ThreeDotsLabs/watermill/components/cqrs"
	"github.com/ThreeDotsLabs/watermill/components/requestreply"
	"github.com/ThreeDotsLabs/watermill/message"
	"github.com/google/uuid"

	"github.com/evcrm/evcrm/commands"
	"github.com/evcrm/evcrm/domain"
)

// PoisonTopic receives the messages no handler could handle.
const PoisonTopic = "evcrm.poison"

// Config configures a Bus.
type Config struct {
	// Transport is "inprocess" (default), "nats" or "amqp".
	Transport string
	// URL is the broker's address (nats://host:4222, amqp://user:pass@host:5672/).
	URL string
	// Namespace, if set, prefixes every name on the broker (subjects,
	// streams, exchanges, queues: "<namespace>.evcrm.events.case"), so that
	// several deployments can share one broker. Letters, digits, '_' and
	// '-'. Changing it starts afresh: the old names' messages stay behind.
	Namespace string
	// Retry is the handlers' retry backoff.
	Retry RetryConfig
	// ReplyTimeout bounds SendWithReply (default 30s).
	ReplyTimeout time.Duration
	// CloseTimeout bounds how long Close waits for in-flight messages (default 30s).
	CloseTimeout time.Duration
	// OpenEvent, if set, turns an event's data as published (personal
	// fields encrypted, package privacy) into the data handlers decode.
	OpenEvent func(ctx context.Context, data []byte) ([]byte, error)
	Logger    *slog.Logger
}

func (c *Config) setDefaults() {
	if c.Transport == "" {
		c.Transport = TransportInProcess
	}
	c.Retry.setDefaults()
	if c.ReplyTimeout <= 0 {
		c.ReplyTimeout = 30 * time.Second
	}
	if c.CloseTimeout <= 0 {
		c.CloseTimeout = 30 * time.Second
	}
	if c.Logger == nil {
		c.Logger = slog.New(slog.DiscardHandler)
	}
}

// Validate reports every problem at once.
func (c Config) Validate() error {
	var errs []error
	switch c.Transport {
	case TransportInProcess, "":
	case TransportNATS, TransportAMQP:
		if c.URL == "" {
			errs = append(errs, fmt.Errorf("bus %q needs a broker URL (EVCRM_BUS_URL)", c.Transport))
		}
	case TransportKafka:
		errs = append(errs, fmt.Errorf("bus %q is not built into this binary: its watermill module (Sarama) "+
			"would weigh more than the rest of evcrm's dependencies; use nats or amqp", c.Transport))
	default:
		errs = append(errs, fmt.Errorf("unknown bus %q (want inprocess, nats or amqp)", c.Transport))
	}
	if c.Namespace != "" && !namespacePattern.MatchString(c.Namespace) {
		errs = append(errs, fmt.Errorf("bus namespace %q: want 1 to 40 letters, digits, '_' or '-'", c.Namespace))
	}
	if c.Retry.MaxRetries < 0 {
		errs = append(errs, errors.New("retry count must not be negative"))
	}
	return errors.Join(errs...)
}

// Bus is evcrm's message bus: a watermill router with a command processor,
// event processors, a command bus and an optional event forwarder.
type Bus struct {
	cfg       Config
	log       *slog.Logger
	transport Transport
	router    *message.Router
	marshaler Marshaler

	commandBus  *cqrs.CommandBus
	commandProc *cqrs.CommandProcessor
	eventProc   *cqrs.EventGroupProcessor
	replies     *requestreply.PubSubBackend[Reply]

	mu          sync.Mutex
	groupTopics map[string]string // event handler group → topic
	forwarders  []*Forwarder
	runners     []func(context.Context) error
	ran         bool
	running     chan struct{}
}

// New builds a bus on the transport cfg names. Add handlers, then Run.
func New(cfg Config) (*Bus, error) {
	cfg.setDefaults()
	if err := cfg.Validate(); err != nil {
		return nil, fmt.Errorf("invalid bus config: %w", err)
	}
	transport, err := NewTransport(cfg)
	if err != nil {
		return nil, err
	}
	b, err := newBus(cfg, transport)
	if err != nil {
		transport.Close()
		return nil, err
	}
	return b, nil
}

func newBus(cfg Config, transport Transport) (*Bus, error) {
	wlog := watermill.NewSlogLoggerWithLevelMapping(cfg.Logger.With("component", "watermill"), map[slog.Level]slog.Level{
		// watermill logs routine lifecycle at Info; keep our Info for our own lines.
		slog.LevelInfo: slog.LevelDebug,
	})
	router, err := message.NewRouter(message.RouterConfig{CloseTimeout: cfg.CloseTimeout}, wlog)
	if err != nil {
		return nil, err
	}
	mws, err := middlewares(transport.Publisher(), PoisonTopic, cfg.Retry, cfg.Logger)
	if err != nil {
		return nil, err
	}
	router.AddMiddleware(mws...)

	b := &Bus{cfg: cfg, log: cfg.Logger, transport: transport, router: router, groupTopics: map[string]string{}, running: make(chan struct{}), marshaler: Marshaler{Open: cfg.OpenEvent}}

	b.commandBus, err = cqrs.NewCommandBusWithConfig(transport.Publisher(), cqrs.CommandBusConfig{
		GeneratePublishTopic: func(p cqrs.CommandBusGeneratePublishTopicParams) (string, error) {
			return CommandTopicPrefix + p.CommandName, nil
		},
		Marshaler: b.marshaler,
		Logger:    wlog,
	})
	if err != nil {
		return nil, err
	}
	b.commandProc, err = cqrs.NewCommandProcessorWithConfig(router, cqrs.CommandProcessorConfig{
		GenerateSubscribeTopic: func(p cqrs.CommandProcessorGenerateSubscribeTopicParams) (string, error) {
			return CommandTopicPrefix + p.CommandName, nil
		},
		SubscriberConstructor: func(p cqrs.CommandProcessorSubscriberConstructorParams) (message.Subscriber, error) {
			return transport.Subscriber(p.HandlerName)
		},
		Marshaler: b.marshaler,
		Logger:    wlog,
	})
	if err != nil {
		return nil, err
	}
	b.eventProc, err = cqrs.NewEventGroupProcessorWithConfig(router, cqrs.EventGroupProcessorConfig{
		GenerateSubscribeTopic: func(p cqrs.EventGroupProcessorGenerateSubscribeTopicParams) (string, error) {
			b.mu.Lock()
			topic, ok := b.groupTopics[p.EventGroupName]
			b.mu.Unlock()
			if !ok {
				return "", fmt.Errorf("bus: no topic for event handler group %q", p.EventGroupName)
			}
			return topic, nil
		},
		SubscriberConstructor: func(p cqrs.EventGroupProcessorSubscriberConstructorParams) (message.Subscriber, error) {
			return transport.Subscriber(p.EventGroupName)
		},
		AckOnUnknownEvent: true,
		Marshaler:         b.marshaler,
		Logger:            wlog,
	})
	if err != nil {
		return nil, err
	}
	b.replies, err = requestreply.NewPubSubBackend(requestreply.PubSubBackendConfig{
		Publisher: transport.ReplyPublisher(),
		SubscriberConstructor: func(p requestreply.PubSubBackendSubscribeParams) (message.Subscriber, error) {
			return transport.ReplySubscriber(string(p.OperationID))
		},
		GeneratePublishTopic: func(p requestreply.PubSubBackendPublishParams) (string, error) {
			return ReplyTopicPrefix + p.CommandMessage.Metadata.Get(KeyName), nil
		},
		GenerateSubscribeTopic: func(p requestreply.PubSubBackendSubscribeParams) (string, error) {
			return ReplyTopicPrefix + b.marshaler.Name(p.Command), nil
		},
		Logger:                &replyLogger{wlog},
		ListenForReplyTimeout: &cfg.ReplyTimeout,
	}, requestreply.BackendPubsubJSONMarshaler[Reply]{})
	if err != nil {
		return nil, err
	}
	return b, nil
}

// ServeCommands subscribes the bus to every command type d has registered:
// commands sent on the bus are dispatched exactly as HTTP requests are.
func (b *Bus) ServeCommands(d Dispatcher) error {
	if d == nil {
		return errors.New("bus: ServeCommands needs a dispatcher")
	}
	var handlers []cqrs.CommandHandler
	for _, name := range d.CommandTypes() {
		handlers = append(handlers, &commandHandler{name: name, dispatch: d, replies: b.replies, log: b.log})
	}
	if len(handlers) == 0 {
		return errors.New("bus: the dispatcher has no command handlers")
	}
	return b.commandProc.AddHandlers(handlers...)
}

// AddEventHandlers subscribes a group of event handlers to the events of
// one stream category. group is the permanent consumer-group name
// ("process.sla-watcher.case"); within a group, events arrive in stream
// order and each handler sees the event types it declares (NewEventHandler).
func (b *Bus) AddEventHandlers(group, category string, handlers ...cqrs.GroupEventHandler) error {
	if group == "" || category == "" {
		return errors.New("bus: an event handler group needs a name and a category")
	}
	topic := EventTopicPrefix + category
	b.mu.Lock()
	if prev, ok := b.groupTopics[group]; ok {
		b.mu.Unlock()
		return fmt.Errorf("bus: event handler group %q already reads %s", group, prev)
	}
	b.groupTopics[group] = topic
	b.mu.Unlock()
	return b.eventProc.AddHandlersGroup(group, handlers...)
}

// AddForwarder runs f with the bus: it starts once every handler is
// subscribed and stops before the router closes, so nothing it publishes
// in-process is lost.
func (b *Bus) AddForwarder(f *Forwarder) {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.forwarders = append(b.forwarders, f)
}

// AddRunner runs fn alongside the bus (a process manager's ticker), started
// after the handlers and stopped before the router closes.
func (b *Bus) AddRunner(fn func(context.Context) error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.runners = append(b.runners, fn)
}

// Transport is the bus's transport.
func (b *Bus) Transport() Transport { return b.transport }

// Running is closed once Run has subscribed every handler and started the
// forwarders and runners.
func (b *Bus) Running() <-chan struct{} { return b.running }

// Publisher is the transport's publisher (the forwarder's destination).
func (b *Bus) Publisher() message.Publisher { return b.transport.Publisher() }

// Send sends a command on the bus. md.CommandID, when set, is the message
// UUID (derive it from an idempotency key with commands.CommandIDFromKey);
// a zero correlation or causation ID is taken from the message being
// handled, if any (see WithCause). In-process, Send returns once the command
// has been handled (or refused); with a broker, once the broker has it.
func (b *Bus) Send(ctx context.Context, cmd domain.Command, md commands.Metadata) error {
	md = withCause(ctx, md)
	return b.commandBus.SendWithModifiedMessage(ctx, cmd, func(msg *message.Message) error {
		SetCommandMetadata(msg, md)
		return nil
	})
}

// SendWithReply sends a command and waits for its Reply (or ctx, or the
// reply timeout). A refused command is a Reply with an Error, not an error.
func (b *Bus) SendWithReply(ctx context.Context, cmd domain.Command, md commands.Metadata) (Reply, error) {
	md = withCause(ctx, md)
	if md.CommandID == uuid.Nil {
		md.CommandID = uuid.New()
	}
	sender := commandSender{b: b, md: md}
	r, err := requestreply.SendWithReply[Reply](ctx, sender, b.replies, cmd)
	if err != nil {
		return Reply{}, fmt.Errorf("sending %s: %w", cmd.CommandType(), err)
	}
	if r.Error != nil {
		return Reply{}, fmt.Errorf("waiting for the reply to %s: %w", cmd.CommandType(), r.Error)
	}
	return r.HandlerResult, nil
}

type commandSender struct {
	b  *Bus
	md commands.Metadata
}

func (s commandSender) SendWithModifiedMessage(ctx context.Context, cmd any, modify func(*message.Message) error) error {
	return s.b.commandBus.SendWithModifiedMessage(ctx, cmd, func(msg *message.Message) error {
		SetCommandMetadata(msg, s.md)
		return modify(msg)
	})
}

func withCause(ctx context.Context, md commands.Metadata) commands.Metadata {
	corr, cause := CauseFrom(ctx)
	if md.CorrelationID == uuid.Nil {
		md.CorrelationID = corr
	}
	if md.CausationID == uuid.Nil {
		md.CausationID = cause
	}
	return md
}

// Run starts the router, then the forwarders and runners once every handler
// is subscribed, and blocks until ctx ends or one of them fails. It then
// stops the forwarders and runners first and the router last, waiting up to
// CloseTimeout for in-flight messages. Run may be called once.
func (b *Bus) Run(ctx context.Context) error {
	b.mu.Lock()
	if b.ran {
		b.mu.Unlock()
		return errors.New("bus: Run called twice")
	}
	b.ran = true
	forwarders, runners := b.forwarders, b.runners
	b.mu.Unlock()

	// The router gets a context of its own: it must outlive the forwarders
	// so that an in-flight in-process publish is handled, not dropped.
	routerCtx, stopRouter := context.WithCancel(context.WithoutCancel(ctx))
	defer stopRouter()
	routerDone := make(chan error, 1)
	go func() { routerDone <- b.router.Run(routerCtx) }()
	select {
	case <-b.router.Running():
	case err := <-routerDone:
		return fmt.Errorf("bus: router stopped before running: %w", err)
	case <-ctx.Done():
		// Closing a router that is still subscribing would wait its whole
		// CloseTimeout (watermill's Close holds the lock RunHandlers needs):
		// let it start on a cancelled context, then close it.
		stopRouter()
		select {
		case <-b.router.Running():
			b.closeRouter()
			<-routerDone
		case <-routerDone:
		}
		b.closeTransport()
		return ctx.Err()
	}
	b.log.Info("message bus running", "transport", b.cfg.Transport, "handlers", len(b.router.Handlers()))

	workCtx, stopWork := context.WithCancel(ctx)
	defer stopWork()
	var (
		wg       sync.WaitGroup
		errOnce  sync.Once
		firstErr error
	)
	start := func(name string, fn func(context.Context) error) {
		wg.Add(1)
		go func() {
			defer wg.Done()
			if err := fn(workCtx); err != nil && workCtx.Err() == nil {
				errOnce.Do(func() { firstErr = fmt.Errorf("bus: %s: %w", name, err) })
				stopWork()
			}
		}()
	}
	for _, f := range forwarders {
		start("forwarder "+f.cfg.Name, f.Run)
	}
	for _, r := range runners {
		start("runner", r)
	}
	close(b.running)

	var (
		routerErr     error
		routerStopped bool
	)
	select {
	case <-workCtx.Done():
	case routerErr = <-routerDone:
		routerStopped = true
	}
	stopWork()
	wg.Wait()
	b.closeRouter()
	if !routerStopped {
		routerErr = <-routerDone
	}
	b.closeTransport()
	switch {
	case firstErr != nil:
		return firstErr
	case routerErr != nil:
		return fmt.Errorf("bus: router: %w", routerErr)
	case routerStopped && ctx.Err() == nil:
		return errors.New("bus: router stopped: every handler's subscription ended")
	}
	return ctx.Err()
}

func (b *Bus) closeRouter() {
	if err := b.router.Close(); err != nil {
		b.log.Warn("closing the message router", "error", err)
	}
}

func (b *Bus) closeTransport() {
	if err := b.transport.Close(); err != nil {
		b.log.Warn("closing the bus transport", "error", err)
	}
}

// Close releases the bus if Run was never called (Run closes it itself).
func (b *Bus) Close() error {
	b.mu.Lock()
	ran := b.ran
	b.ran = true
	b.mu.Unlock()
	if ran {
		return nil
	}
	// The router never ran: it has no goroutines to stop (and its Close
	// would wait CloseTimeout for handlers that never started).
	return b.transport.Close()
}

// replyLogger keeps the request/reply backend's per-request debug lines at
// trace level.
type replyLogger struct{ watermill.LoggerAdapter }

func (l *replyLogger) Debug(msg string, fields watermill.LogFields) { l.Trace(msg, fields) }

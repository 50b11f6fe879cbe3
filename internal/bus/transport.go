package bus

import (
	"errors"
	"fmt"
	"log/slog"
	"regexp"

	"github.com/ThreeDotsLabs/watermill"
	"github.com/ThreeDotsLabs/watermill/message"
	"github.com/ThreeDotsLabs/watermill/pubsub/gochannel"
)

// Transport names (EVCRM_BUS).
//
//   - "inprocess" (default): watermill's gochannel, inside one process.
//   - "nats": NATS JetStream (transport_nats.go): a file-backed stream per
//     topic, a durable consumer per (topic, handler name) shared by every
//     process as a queue group, explicit acks; replies on core NATS.
//   - "amqp": RabbitMQ (transport_amqp.go): a durable fanout exchange per
//     topic, a durable single-active-consumer queue per (topic, handler
//     name), persistent messages, publisher confirms.
//
// Both brokers keep what the in-process bus promises: each handler group
// sees a topic in order, one message at a time, and several evcrm processes
// with the same handler name share its work (each message is handled by
// one of them; another takes over when one stops). Delivery is at least
// once: handlers are idempotent by message UUID (command ID, event ID).
//
// Kafka is recognised but not built in: its watermill module brings Sarama,
// whose dependency tree is heavier than the rest of evcrm's; NATS or AMQP
// cover the same ground. Adding it is a new case in NewTransport.
const (
	TransportInProcess = "inprocess"
	TransportNATS      = "nats"
	TransportAMQP      = "amqp"
	TransportKafka     = "kafka"
)

// Transport is a message broker as the bus uses it.
type Transport interface {
	// Publisher publishes commands, events and poison messages. On a
	// broker, Publish returns once the broker has stored the messages.
	Publisher() message.Publisher
	// Subscriber returns a subscriber for the handler called handlerName;
	// on a broker, the handler name names its durable consumer / queue,
	// shared by every process that subscribes under the same name.
	Subscriber(handlerName string) (message.Subscriber, error)
	// ReplyPublisher and ReplySubscriber carry command replies: short-lived
	// subscriptions, one per request, that end with the request's context.
	ReplyPublisher() message.Publisher
	ReplySubscriber(operationID string) (message.Subscriber, error)
	Close() error
}

// namespacePattern is what Config.Namespace may be: it prefixes subjects,
// stream, exchange and queue names on every broker.
var namespacePattern = regexp.MustCompile(`^[A-Za-z0-9_-]{1,40}$`)

// namespaced prefixes a broker-side name with the namespace, if any.
func namespaced(namespace, name string) string {
	if namespace == "" {
		return name
	}
	return namespace + "." + name
}

// NewTransport builds the transport cfg names.
func NewTransport(cfg Config) (Transport, error) {
	cfg.setDefaults()
	log := watermill.NewSlogLoggerWithLevelMapping(cfg.Logger.With("component", "watermill"),
		map[slog.Level]slog.Level{slog.LevelInfo: slog.LevelDebug})
	switch cfg.Transport {
	case TransportInProcess:
		return NewInProcess(log), nil
	case TransportNATS:
		return newNATS(cfg, log)
	case TransportAMQP:
		return newAMQP(cfg, log)
	}
	return nil, fmt.Errorf("bus: transport %q is not available in this binary", cfg.Transport)
}

// InProcess is the in-process transport (watermill's gochannel).
//
// Publishing blocks until every subscriber has acknowledged the message, so
// each topic is handled in order and a publisher (the forwarder) knows that
// what it published has been handled. Nothing survives the process: the
// forwarder's checkpoint and the handlers' idempotency provide durability.
//
// Replies travel on a second, non-blocking channel: request/reply subscribes
// per request, and gochannel's subscribe would otherwise wait for every
// blocked publish to finish.
type InProcess struct {
	main, replies *gochannel.GoChannel
}

// NewInProcess returns an in-process transport.
func NewInProcess(log watermill.LoggerAdapter) *InProcess {
	return &InProcess{
		main:    gochannel.NewGoChannel(gochannel.Config{BlockPublishUntilSubscriberAck: true}, log),
		replies: gochannel.NewGoChannel(gochannel.Config{}, log),
	}
}

func (t *InProcess) Publisher() message.Publisher                       { return t.main }
func (t *InProcess) Subscriber(string) (message.Subscriber, error)      { return t.main, nil }
func (t *InProcess) ReplyPublisher() message.Publisher                  { return t.replies }
func (t *InProcess) ReplySubscriber(string) (message.Subscriber, error) { return t.replies, nil }
func (t *InProcess) Close() error                                       { return errors.Join(t.main.Close(), t.replies.Close()) }

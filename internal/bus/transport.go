package bus

import (
	"errors"
	"fmt"
	"log/slog"
	"sync"

	"github.com/ThreeDotsLabs/watermill"
	"github.com/ThreeDotsLabs/watermill-amqp/v3/pkg/amqp"
	"github.com/ThreeDotsLabs/watermill/message"
	"github.com/ThreeDotsLabs/watermill/pubsub/gochannel"
)

// Transport names (EVCRM_BUS).
const (
	TransportInProcess = "inprocess"
	TransportAMQP      = "amqp"
	// NATS and Kafka are recognised by the configuration but not built into
	// this binary: their watermill modules (watermill-nats, watermill-kafka
	// with Sarama) roughly double the dependency tree, while AMQP's needs
	// only the RabbitMQ client. Adding one is a new case in NewTransport.
	TransportNATS  = "nats"
	TransportKafka = "kafka"
)

// Transport is a message broker as the bus uses it.
type Transport interface {
	// Publisher publishes commands, events and poison messages.
	Publisher() message.Publisher
	// Subscriber returns a subscriber for the handler called handlerName;
	// on a broker, the handler name is its consumer group / queue.
	Subscriber(handlerName string) (message.Subscriber, error)
	// ReplyPublisher and ReplySubscriber carry command replies: short-lived
	// subscriptions, one per request.
	ReplyPublisher() message.Publisher
	ReplySubscriber(operationID string) (message.Subscriber, error)
	Close() error
}

// NewTransport builds the transport cfg names.
func NewTransport(cfg Config) (Transport, error) {
	log := watermill.NewSlogLoggerWithLevelMapping(cfg.Logger.With("component", "watermill"),
		map[slog.Level]slog.Level{slog.LevelInfo: slog.LevelDebug})
	switch cfg.Transport {
	case TransportInProcess, "":
		return NewInProcess(log), nil
	case TransportAMQP:
		return newAMQP(cfg.URL, log)
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

// amqpTransport is RabbitMQ: one durable fanout exchange per topic, one
// durable queue per (topic, handler name), persistent messages, publisher
// confirms (so the forwarder checkpoints only what the broker has).
type amqpTransport struct {
	conn      *amqp.ConnectionWrapper
	log       watermill.LoggerAdapter
	publisher *amqp.Publisher

	mu   sync.Mutex
	subs []*amqp.Subscriber
}

func newAMQP(url string, log watermill.LoggerAdapter) (*amqpTransport, error) {
	conn, err := amqp.NewConnection(amqp.ConnectionConfig{AmqpURI: url, Reconnect: amqp.DefaultReconnectConfig()}, log)
	if err != nil {
		return nil, fmt.Errorf("bus: connecting to AMQP: %w", err)
	}
	cfg := amqp.NewDurablePubSubConfig(url, nil)
	cfg.Publish.ConfirmDelivery = true
	pub, err := amqp.NewPublisherWithConnection(cfg, log, conn)
	if err != nil {
		conn.Close()
		return nil, fmt.Errorf("bus: AMQP publisher: %w", err)
	}
	return &amqpTransport{conn: conn, log: log, publisher: pub}, nil
}

func (t *amqpTransport) Publisher() message.Publisher      { return t.publisher }
func (t *amqpTransport) ReplyPublisher() message.Publisher { return t.publisher }

func (t *amqpTransport) Subscriber(handlerName string) (message.Subscriber, error) {
	cfg := amqp.NewDurablePubSubConfig("", amqp.GenerateQueueNameTopicNameWithSuffix(handlerName))
	return t.subscriber(cfg)
}

func (t *amqpTransport) ReplySubscriber(operationID string) (message.Subscriber, error) {
	cfg := amqp.NewDurablePubSubConfig("", amqp.GenerateQueueNameTopicNameWithSuffix(operationID))
	// A reply queue lives as long as the request waits for it.
	cfg.Queue.Durable = false
	cfg.Queue.AutoDelete = true
	cfg.Queue.Exclusive = true
	// Not tracked: its subscription ends with the request's context, and
	// the broker deletes the queue with its consumer.
	sub, err := amqp.NewSubscriberWithConnection(cfg, t.log, t.conn)
	if err != nil {
		return nil, fmt.Errorf("bus: AMQP reply subscriber: %w", err)
	}
	return sub, nil
}

func (t *amqpTransport) subscriber(cfg amqp.Config) (message.Subscriber, error) {
	sub, err := amqp.NewSubscriberWithConnection(cfg, t.log, t.conn)
	if err != nil {
		return nil, fmt.Errorf("bus: AMQP subscriber: %w", err)
	}
	t.mu.Lock()
	t.subs = append(t.subs, sub)
	t.mu.Unlock()
	return sub, nil
}

func (t *amqpTransport) Close() error {
	errs := []error{t.publisher.Close()}
	t.mu.Lock()
	defer t.mu.Unlock()
	for _, s := range t.subs {
		errs = append(errs, s.Close())
	}
	errs = append(errs, t.conn.Close())
	return errors.Join(errs...)
}

package bus

import (
	"context"
	"errors"
	"fmt"
	"sync"

	"github.com/ThreeDotsLabs/watermill"
	"github.com/ThreeDotsLabs/watermill-amqp/v3/pkg/amqp"
	"github.com/ThreeDotsLabs/watermill/message"
)

// amqpTransport is RabbitMQ, on one connection (a channel per subscriber):
//
//   - a durable fanout exchange per topic, named after it
//     ("evcrm.events.case", or "<namespace>.evcrm.events.case");
//   - a durable queue per (topic, handler name), "<exchange>_<handler>",
//     declared with x-single-active-consumer: the processes subscribed under
//     one handler name share the queue, one of them receives at a time (in
//     order, prefetch 1) and the next takes over, with the unacknowledged
//     messages, when it goes away;
//   - persistent messages and publisher confirms, so Publish returns once
//     the broker has the message (the forwarder checkpoints only that);
//   - replies: an exclusive, auto-deleted queue per request, bound to the
//     reply topic's exchange.
//
// An exchange without queues drops what is published to it: a handler
// receives what was published after its queue was first declared.
type amqpTransport struct {
	conn      *amqp.ConnectionWrapper
	log       watermill.LoggerAdapter
	namespace string
	publisher *amqp.Publisher

	mu        sync.Mutex
	subs      []*amqp.Subscriber
	replySubs map[*amqp.Subscriber]struct{} // requests waiting for a reply
	closed    bool
}

func newAMQP(cfg Config, log watermill.LoggerAdapter) (*amqpTransport, error) {
	conn, err := amqp.NewConnection(amqp.ConnectionConfig{AmqpURI: cfg.URL, Reconnect: amqp.DefaultReconnectConfig()}, log)
	if err != nil {
		return nil, fmt.Errorf("bus: connecting to AMQP: %w", err)
	}
	t := &amqpTransport{conn: conn, log: log, namespace: cfg.Namespace, replySubs: map[*amqp.Subscriber]struct{}{}}
	pcfg := t.config("")
	pcfg.Publish.ConfirmDelivery = true
	t.publisher, err = amqp.NewPublisherWithConnection(pcfg, log, conn)
	if err != nil {
		conn.Close()
		return nil, fmt.Errorf("bus: AMQP publisher: %w", err)
	}
	return t, nil
}

// config is the durable pub/sub configuration with this transport's names;
// queueSuffix names the queue (the handler name).
func (t *amqpTransport) config(queueSuffix string) amqp.Config {
	exchange := func(topic string) string { return namespaced(t.namespace, topic) }
	cfg := amqp.NewDurablePubSubConfig("", func(topic string) string { return exchange(topic) + "_" + queueSuffix })
	cfg.Exchange.GenerateName = exchange
	return cfg
}

func (t *amqpTransport) Publisher() message.Publisher      { return t.publisher }
func (t *amqpTransport) ReplyPublisher() message.Publisher { return t.publisher }

func (t *amqpTransport) Subscriber(handlerName string) (message.Subscriber, error) {
	cfg := t.config(handlerName)
	cfg.Queue.Arguments = map[string]any{"x-single-active-consumer": true}
	sub, err := amqp.NewSubscriberWithConnection(cfg, t.log, t.conn)
	if err != nil {
		return nil, fmt.Errorf("bus: AMQP subscriber: %w", err)
	}
	t.mu.Lock()
	defer t.mu.Unlock()
	if t.closed {
		return nil, errors.New("bus: AMQP transport closed")
	}
	t.subs = append(t.subs, sub)
	return sub, nil
}

func (t *amqpTransport) ReplySubscriber(operationID string) (message.Subscriber, error) {
	cfg := t.config(operationID)
	// A reply queue lives as long as the request waits for it.
	cfg.Queue.Durable = false
	cfg.Queue.AutoDelete = true
	cfg.Queue.Exclusive = true
	sub, err := amqp.NewSubscriberWithConnection(cfg, t.log, t.conn)
	if err != nil {
		return nil, fmt.Errorf("bus: AMQP reply subscriber: %w", err)
	}
	t.mu.Lock()
	defer t.mu.Unlock()
	if t.closed {
		return nil, errors.New("bus: AMQP transport closed")
	}
	t.replySubs[sub] = struct{}{}
	return &amqpReplySubscriber{t: t, sub: sub}, nil
}

// amqpReplySubscriber closes itself when the request's context ends (the
// broker then deletes its queue): the request/reply backend never closes
// its subscribers, and watermill-amqp's must be closed before their
// connection is.
type amqpReplySubscriber struct {
	t   *amqpTransport
	sub *amqp.Subscriber
}

func (s *amqpReplySubscriber) Subscribe(ctx context.Context, topic string) (<-chan *message.Message, error) {
	ch, err := s.sub.Subscribe(ctx, topic)
	if err != nil {
		s.Close()
		return nil, err
	}
	go func() {
		<-ctx.Done()
		s.Close()
	}()
	return ch, nil
}

func (s *amqpReplySubscriber) Close() error {
	s.t.mu.Lock()
	delete(s.t.replySubs, s.sub)
	s.t.mu.Unlock()
	return s.sub.Close()
}

func (t *amqpTransport) Close() error {
	t.mu.Lock()
	subs, replySubs := t.subs, t.replySubs
	t.subs, t.replySubs, t.closed = nil, nil, true
	t.mu.Unlock()
	var errs []error
	for s := range replySubs {
		errs = append(errs, s.Close())
	}
	for _, s := range subs {
		errs = append(errs, s.Close())
	}
	errs = append(errs, t.publisher.Close(), t.conn.Close())
	return errors.Join(errs...)
}

-- Version 2: the merchant outbox. An order's events for its merchant are
-- kept here by the order's workflow and sent by the worker's dispatcher,
-- one order's events in sequence.

-- +goose Up
CREATE TABLE merchant_outbox (
    id bigint NOT NULL,
    order_id character varying(64) NOT NULL,
    sequence bigint NOT NULL,
    event_type character varying(64) NOT NULL,
    payload text NOT NULL,
    state character varying(16) NOT NULL,
    attempts bigint NOT NULL,
    next_attempt_at timestamp with time zone NOT NULL,
    lease_token character varying(32) NOT NULL,
    lease_until timestamp with time zone,
    created_at timestamp with time zone NOT NULL,
    updated_at timestamp with time zone NOT NULL
);
CREATE SEQUENCE merchant_outbox_id_seq
    START WITH 1
    INCREMENT BY 1
    NO MINVALUE
    NO MAXVALUE
    CACHE 1;
ALTER SEQUENCE merchant_outbox_id_seq OWNED BY merchant_outbox.id;
ALTER TABLE ONLY merchant_outbox ALTER COLUMN id SET DEFAULT nextval('merchant_outbox_id_seq'::regclass);
ALTER TABLE ONLY merchant_outbox
    ADD CONSTRAINT merchant_outbox_pkey PRIMARY KEY (id);
CREATE INDEX idx_merchant_outbox_due ON merchant_outbox USING btree (state, next_attempt_at);
CREATE UNIQUE INDEX idx_merchant_outbox_order_sequence ON merchant_outbox USING btree (order_id, sequence);

-- +goose Down
DROP TABLE IF EXISTS merchant_outbox CASCADE;

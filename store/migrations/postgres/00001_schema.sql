-- Version 1: the schema as the store's row structs defined it when versioned
-- migrations began. Databases created before then are adopted at this
-- version without running it (see store/migrate.go).

-- +goose Up
CREATE TABLE buyer_profiles (
    buyer_id character varying(64) NOT NULL,
    id character varying(64) NOT NULL,
    shipping text NOT NULL,
    email text NOT NULL,
    phone text NOT NULL,
    stripe_customer_id character varying(255) NOT NULL,
    payment_method_id character varying(255) NOT NULL,
    card_brand character varying(32) NOT NULL,
    card_last4 character varying(4) NOT NULL,
    card_exp_month bigint NOT NULL,
    card_exp_year bigint NOT NULL,
    created_at timestamp with time zone,
    updated_at timestamp with time zone
);
CREATE TABLE idempotency_keys (
    scope character varying(128) NOT NULL,
    key character varying(255) NOT NULL,
    request_hash character varying(128) NOT NULL,
    order_id character varying(64) NOT NULL,
    created_at timestamp with time zone
);
CREATE TABLE merchant_audit_events (
    id character varying(64) NOT NULL,
    merchant_id character varying(64) NOT NULL,
    type character varying(64) NOT NULL,
    actor character varying(16) NOT NULL,
    actor_key_id character varying(32),
    key_id character varying(32),
    detail character varying(500),
    created_at timestamp with time zone NOT NULL,
    announced boolean DEFAULT false NOT NULL
);
CREATE TABLE merchant_keys (
    key_hash character varying(64) NOT NULL,
    merchant_id character varying(64) NOT NULL,
    created_at timestamp with time zone NOT NULL,
    expires_at timestamp with time zone NOT NULL
);
CREATE TABLE merchant_policies (
    merchant_id character varying(64) NOT NULL,
    shipping text DEFAULT ''::text NOT NULL,
    tax text DEFAULT ''::text NOT NULL,
    updated_at timestamp with time zone
);
CREATE TABLE merchant_stripe_accounts (
    merchant_id character varying(64) NOT NULL,
    account_id character varying(255) NOT NULL,
    charges_enabled boolean NOT NULL,
    payouts_enabled boolean NOT NULL,
    details_done boolean NOT NULL,
    requirements_due text NOT NULL,
    disabled_reason character varying(64) NOT NULL,
    fee_bps bigint,
    fee_fixed_minor bigint,
    event_created bigint NOT NULL,
    updated_at timestamp with time zone
);
CREATE TABLE merchants (
    id character varying(64) NOT NULL,
    name text NOT NULL,
    active boolean NOT NULL,
    api_key_hash character varying(64) NOT NULL,
    webhook_url text NOT NULL,
    webhook_secret text NOT NULL,
    created_at timestamp with time zone
);
CREATE TABLE order_event_sequences (
    order_id character varying(64) NOT NULL,
    last bigint NOT NULL
);
CREATE TABLE order_events (
    id bigint NOT NULL,
    order_id character varying(64) NOT NULL,
    from_status character varying(32) NOT NULL,
    to_status character varying(32) NOT NULL,
    actor text NOT NULL,
    detail text NOT NULL,
    created_at timestamp with time zone
);
CREATE SEQUENCE order_events_id_seq
    START WITH 1
    INCREMENT BY 1
    NO MINVALUE
    NO MAXVALUE
    CACHE 1;
ALTER SEQUENCE order_events_id_seq OWNED BY order_events.id;
CREATE TABLE order_fees (
    order_id character varying(64) NOT NULL,
    merchant_id character varying(64) NOT NULL,
    destination character varying(255) NOT NULL,
    fee_bps bigint NOT NULL,
    fee_fixed_minor bigint NOT NULL,
    fee_minor bigint NOT NULL,
    captured_fee_minor bigint NOT NULL,
    created_at timestamp with time zone
);
CREATE TABLE orders (
    id character varying(64) NOT NULL,
    buyer_id character varying(64) NOT NULL,
    merchant_id character varying(64) NOT NULL,
    product_id character varying(64) NOT NULL,
    product_title text NOT NULL,
    quantity bigint NOT NULL,
    unit_price_minor bigint NOT NULL,
    amount_minor bigint NOT NULL,
    currency character varying(3) NOT NULL,
    status character varying(32) NOT NULL,
    failure_code character varying(64) NOT NULL,
    payment_intent_id character varying(255) NOT NULL,
    captured_minor bigint NOT NULL,
    refunded_minor bigint NOT NULL,
    disputed boolean DEFAULT false NOT NULL,
    dispute_status character varying(32) DEFAULT ''::character varying NOT NULL,
    shipping_address text NOT NULL,
    carrier text NOT NULL,
    tracking_number text NOT NULL,
    tracking_url text NOT NULL,
    created_at timestamp with time zone,
    updated_at timestamp with time zone,
    redact_shipping boolean DEFAULT false NOT NULL,
    variant_id character varying(64) DEFAULT ''::character varying NOT NULL,
    pricing text DEFAULT ''::text NOT NULL
);
CREATE TABLE product_catalogues (
    product_id character varying(64) NOT NULL,
    options text NOT NULL,
    images text NOT NULL,
    updated_at timestamp with time zone
);
CREATE TABLE product_variants (
    id character varying(64) NOT NULL,
    product_id character varying(64) NOT NULL,
    "position" bigint NOT NULL,
    sku character varying(64) NOT NULL,
    options text NOT NULL,
    price_minor bigint NOT NULL,
    stock bigint NOT NULL,
    active boolean NOT NULL,
    created_at timestamp with time zone,
    updated_at timestamp with time zone,
    CONSTRAINT chk_product_variants_stock CHECK ((stock >= 0))
);
CREATE TABLE products (
    id character varying(64) NOT NULL,
    merchant_id character varying(64) NOT NULL,
    title text NOT NULL,
    description text NOT NULL,
    price_minor bigint NOT NULL,
    currency character varying(3) NOT NULL,
    stock bigint NOT NULL,
    max_per_order bigint NOT NULL,
    active boolean NOT NULL,
    created_at timestamp with time zone,
    updated_at timestamp with time zone,
    CONSTRAINT chk_products_stock CHECK ((stock >= 0))
);
CREATE TABLE profile_uses (
    order_id character varying(64) NOT NULL,
    buyer_id character varying(64) NOT NULL,
    erased boolean DEFAULT false NOT NULL,
    created_at timestamp with time zone NOT NULL
);
CREATE TABLE quotes (
    id character varying(64) NOT NULL,
    buyer_id character varying(64) NOT NULL,
    product_id character varying(64) NOT NULL,
    variant_id character varying(64) NOT NULL,
    quantity bigint NOT NULL,
    destination character varying(64) NOT NULL,
    pricing text NOT NULL,
    rates text NOT NULL,
    order_id character varying(64) DEFAULT ''::character varying NOT NULL,
    expires_at timestamp with time zone NOT NULL,
    created_at timestamp with time zone
);
CREATE TABLE refund_splits (
    order_id character varying(64) NOT NULL,
    request_key character varying(255) NOT NULL,
    stripe_refund_id character varying(255) NOT NULL,
    amount_minor bigint NOT NULL,
    reversed_minor bigint NOT NULL,
    fee_returned_minor bigint NOT NULL,
    created_at timestamp with time zone
);
CREATE TABLE refunds (
    order_id character varying(64) NOT NULL,
    request_key character varying(255) NOT NULL,
    amount_minor bigint NOT NULL,
    reason text NOT NULL,
    actor text NOT NULL,
    status character varying(16) NOT NULL,
    stripe_refund_id character varying(255) NOT NULL,
    created_at timestamp with time zone,
    updated_at timestamp with time zone
);
CREATE TABLE rollout_settings (
    version bigint NOT NULL,
    settings text NOT NULL,
    actor character varying(128) NOT NULL,
    created_at timestamp with time zone NOT NULL
);
CREATE TABLE stock_reservations (
    order_id character varying(64) NOT NULL,
    product_id character varying(64) NOT NULL,
    variant_id character varying(64) DEFAULT ''::character varying NOT NULL,
    quantity bigint NOT NULL,
    released boolean NOT NULL,
    created_at timestamp with time zone,
    updated_at timestamp with time zone
);
CREATE TABLE stripe_events (
    id character varying(255) NOT NULL,
    type character varying(128) NOT NULL,
    order_id character varying(64) NOT NULL,
    created_at timestamp with time zone,
    claimed_at timestamp with time zone,
    handled_at timestamp with time zone
);
CREATE TABLE webhook_attempts (
    id bigint NOT NULL,
    delivery_id character varying(128) NOT NULL,
    order_id character varying(64) NOT NULL,
    merchant_id character varying(64) NOT NULL,
    event_type character varying(64) NOT NULL,
    attempt bigint NOT NULL,
    status_code bigint NOT NULL,
    latency_ms bigint NOT NULL,
    outcome character varying(32) NOT NULL,
    error text NOT NULL,
    created_at timestamp with time zone
);
CREATE SEQUENCE webhook_attempts_id_seq
    START WITH 1
    INCREMENT BY 1
    NO MINVALUE
    NO MAXVALUE
    CACHE 1;
ALTER SEQUENCE webhook_attempts_id_seq OWNED BY webhook_attempts.id;
ALTER TABLE ONLY order_events ALTER COLUMN id SET DEFAULT nextval('order_events_id_seq'::regclass);
ALTER TABLE ONLY webhook_attempts ALTER COLUMN id SET DEFAULT nextval('webhook_attempts_id_seq'::regclass);
ALTER TABLE ONLY buyer_profiles
    ADD CONSTRAINT buyer_profiles_pkey PRIMARY KEY (buyer_id);
ALTER TABLE ONLY idempotency_keys
    ADD CONSTRAINT idempotency_keys_pkey PRIMARY KEY (scope, key);
ALTER TABLE ONLY merchant_audit_events
    ADD CONSTRAINT merchant_audit_events_pkey PRIMARY KEY (id);
ALTER TABLE ONLY merchant_keys
    ADD CONSTRAINT merchant_keys_pkey PRIMARY KEY (key_hash);
ALTER TABLE ONLY merchant_policies
    ADD CONSTRAINT merchant_policies_pkey PRIMARY KEY (merchant_id);
ALTER TABLE ONLY merchant_stripe_accounts
    ADD CONSTRAINT merchant_stripe_accounts_pkey PRIMARY KEY (merchant_id);
ALTER TABLE ONLY merchants
    ADD CONSTRAINT merchants_pkey PRIMARY KEY (id);
ALTER TABLE ONLY order_event_sequences
    ADD CONSTRAINT order_event_sequences_pkey PRIMARY KEY (order_id);
ALTER TABLE ONLY order_events
    ADD CONSTRAINT order_events_pkey PRIMARY KEY (id);
ALTER TABLE ONLY order_fees
    ADD CONSTRAINT order_fees_pkey PRIMARY KEY (order_id);
ALTER TABLE ONLY orders
    ADD CONSTRAINT orders_pkey PRIMARY KEY (id);
ALTER TABLE ONLY product_catalogues
    ADD CONSTRAINT product_catalogues_pkey PRIMARY KEY (product_id);
ALTER TABLE ONLY product_variants
    ADD CONSTRAINT product_variants_pkey PRIMARY KEY (id);
ALTER TABLE ONLY products
    ADD CONSTRAINT products_pkey PRIMARY KEY (id);
ALTER TABLE ONLY profile_uses
    ADD CONSTRAINT profile_uses_pkey PRIMARY KEY (order_id);
ALTER TABLE ONLY quotes
    ADD CONSTRAINT quotes_pkey PRIMARY KEY (id);
ALTER TABLE ONLY refund_splits
    ADD CONSTRAINT refund_splits_pkey PRIMARY KEY (order_id, request_key);
ALTER TABLE ONLY refunds
    ADD CONSTRAINT refunds_pkey PRIMARY KEY (order_id, request_key);
ALTER TABLE ONLY rollout_settings
    ADD CONSTRAINT rollout_settings_pkey PRIMARY KEY (version);
ALTER TABLE ONLY stock_reservations
    ADD CONSTRAINT stock_reservations_pkey PRIMARY KEY (order_id);
ALTER TABLE ONLY stripe_events
    ADD CONSTRAINT stripe_events_pkey PRIMARY KEY (id);
ALTER TABLE ONLY webhook_attempts
    ADD CONSTRAINT webhook_attempts_pkey PRIMARY KEY (id);
CREATE UNIQUE INDEX idx_buyer_profiles_id ON buyer_profiles USING btree (id);
CREATE INDEX idx_merchant_audit_merchant ON merchant_audit_events USING btree (merchant_id, created_at);
CREATE INDEX idx_merchant_keys_merchant ON merchant_keys USING btree (merchant_id);
CREATE UNIQUE INDEX idx_merchant_stripe_account ON merchant_stripe_accounts USING btree (account_id);
CREATE UNIQUE INDEX idx_merchants_api_key_hash ON merchants USING btree (api_key_hash);
CREATE INDEX idx_order_events_order ON order_events USING btree (order_id);
CREATE INDEX idx_order_fees_merchant ON order_fees USING btree (merchant_id);
CREATE INDEX idx_orders_buyer_created ON orders USING btree (buyer_id, created_at);
CREATE INDEX idx_orders_merchant_created ON orders USING btree (merchant_id, created_at);
CREATE INDEX idx_orders_merchant_status_created ON orders USING btree (merchant_id, status, created_at);
CREATE INDEX idx_orders_payment_intent ON orders USING btree (payment_intent_id);
CREATE INDEX idx_product_variants_product ON product_variants USING btree (product_id, "position");
CREATE INDEX idx_products_merchant_created ON products USING btree (merchant_id, created_at);
CREATE INDEX idx_profile_uses_buyer ON profile_uses USING btree (buyer_id);
CREATE INDEX idx_quotes_expires ON quotes USING btree (expires_at);
CREATE INDEX idx_stock_reservations_product ON stock_reservations USING btree (product_id);
CREATE INDEX idx_webhook_attempts_delivery ON webhook_attempts USING btree (delivery_id);
CREATE INDEX idx_webhook_attempts_order ON webhook_attempts USING btree (order_id);

-- +goose Down
DROP TABLE IF EXISTS webhook_attempts CASCADE;
DROP TABLE IF EXISTS stripe_events CASCADE;
DROP TABLE IF EXISTS stock_reservations CASCADE;
DROP TABLE IF EXISTS rollout_settings CASCADE;
DROP TABLE IF EXISTS refunds CASCADE;
DROP TABLE IF EXISTS refund_splits CASCADE;
DROP TABLE IF EXISTS quotes CASCADE;
DROP TABLE IF EXISTS profile_uses CASCADE;
DROP TABLE IF EXISTS products CASCADE;
DROP TABLE IF EXISTS product_variants CASCADE;
DROP TABLE IF EXISTS product_catalogues CASCADE;
DROP TABLE IF EXISTS orders CASCADE;
DROP TABLE IF EXISTS order_fees CASCADE;
DROP TABLE IF EXISTS order_events CASCADE;
DROP TABLE IF EXISTS order_event_sequences CASCADE;
DROP TABLE IF EXISTS merchants CASCADE;
DROP TABLE IF EXISTS merchant_stripe_accounts CASCADE;
DROP TABLE IF EXISTS merchant_policies CASCADE;
DROP TABLE IF EXISTS merchant_keys CASCADE;
DROP TABLE IF EXISTS merchant_audit_events CASCADE;
DROP TABLE IF EXISTS idempotency_keys CASCADE;
DROP TABLE IF EXISTS buyer_profiles CASCADE;
DROP SEQUENCE IF EXISTS order_events_id_seq;
DROP SEQUENCE IF EXISTS webhook_attempts_id_seq;

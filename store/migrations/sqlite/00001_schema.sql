-- Version 1: the schema as the store's row structs defined it when versioned
-- migrations began. Databases created before then are adopted at this
-- version without running it (see store/migrate.go).

-- +goose Up
CREATE TABLE `merchants` (`id` text,`name` text NOT NULL,`active` numeric NOT NULL,`api_key_hash` text NOT NULL,`webhook_url` text NOT NULL,`webhook_secret` text NOT NULL,`created_at` datetime,PRIMARY KEY (`id`));
CREATE TABLE `products` (`id` text,`merchant_id` text NOT NULL,`title` text NOT NULL,`description` text NOT NULL,`price_minor` integer NOT NULL,`currency` text NOT NULL,`stock` integer NOT NULL,`max_per_order` integer NOT NULL,`active` numeric NOT NULL,`created_at` datetime,`updated_at` datetime,PRIMARY KEY (`id`),CONSTRAINT `chk_products_stock` CHECK (stock >= 0));
CREATE TABLE `orders` (`id` text,`buyer_id` text NOT NULL,`merchant_id` text NOT NULL,`product_id` text NOT NULL,`product_title` text NOT NULL,`quantity` integer NOT NULL,`unit_price_minor` integer NOT NULL,`amount_minor` integer NOT NULL,`currency` text NOT NULL,`status` text NOT NULL,`failure_code` text NOT NULL,`payment_intent_id` text NOT NULL,`captured_minor` integer NOT NULL,`refunded_minor` integer NOT NULL,`disputed` numeric NOT NULL DEFAULT false,`dispute_status` text NOT NULL DEFAULT "",`shipping_address` text NOT NULL,`carrier` text NOT NULL,`tracking_number` text NOT NULL,`tracking_url` text NOT NULL,`created_at` datetime,`updated_at` datetime,`redact_shipping` numeric NOT NULL DEFAULT false,`variant_id` text NOT NULL DEFAULT "",`pricing` text NOT NULL DEFAULT "",PRIMARY KEY (`id`));
CREATE TABLE `order_events` (`id` integer PRIMARY KEY AUTOINCREMENT,`order_id` text NOT NULL,`from_status` text NOT NULL,`to_status` text NOT NULL,`actor` text NOT NULL,`detail` text NOT NULL,`created_at` datetime);
CREATE TABLE `stock_reservations` (`order_id` text,`product_id` text NOT NULL,`variant_id` text NOT NULL DEFAULT "",`quantity` integer NOT NULL,`released` numeric NOT NULL,`created_at` datetime,`updated_at` datetime,PRIMARY KEY (`order_id`));
CREATE TABLE `idempotency_keys` (`scope` text,`key` text,`request_hash` text NOT NULL,`order_id` text NOT NULL,`created_at` datetime,PRIMARY KEY (`scope`,`key`));
CREATE TABLE `stripe_events` (`id` text,`type` text NOT NULL,`order_id` text NOT NULL,`created_at` datetime,`claimed_at` datetime,`handled_at` datetime,PRIMARY KEY (`id`));
CREATE TABLE `refunds` (`order_id` text,`request_key` text,`amount_minor` integer NOT NULL,`reason` text NOT NULL,`actor` text NOT NULL,`status` text NOT NULL,`stripe_refund_id` text NOT NULL,`created_at` datetime,`updated_at` datetime,PRIMARY KEY (`order_id`,`request_key`));
CREATE TABLE `order_event_sequences` (`order_id` text,`last` integer NOT NULL,PRIMARY KEY (`order_id`));
CREATE TABLE `merchant_keys` (`key_hash` text,`merchant_id` text NOT NULL,`created_at` datetime NOT NULL,`expires_at` datetime NOT NULL,PRIMARY KEY (`key_hash`));
CREATE TABLE `merchant_audit_events` (`id` text,`merchant_id` text NOT NULL,`type` text NOT NULL,`actor` text NOT NULL,`actor_key_id` text,`key_id` text,`detail` text,`created_at` datetime NOT NULL,`announced` numeric NOT NULL DEFAULT false,PRIMARY KEY (`id`));
CREATE TABLE `webhook_attempts` (`id` integer PRIMARY KEY AUTOINCREMENT,`delivery_id` text NOT NULL,`order_id` text NOT NULL,`merchant_id` text NOT NULL,`event_type` text NOT NULL,`attempt` integer NOT NULL,`status_code` integer NOT NULL,`latency_ms` integer NOT NULL,`outcome` text NOT NULL,`error` text NOT NULL,`created_at` datetime);
CREATE TABLE `buyer_profiles` (`buyer_id` text,`id` text NOT NULL,`shipping` text NOT NULL,`email` text NOT NULL,`phone` text NOT NULL,`stripe_customer_id` text NOT NULL,`payment_method_id` text NOT NULL,`card_brand` text NOT NULL,`card_last4` text NOT NULL,`card_exp_month` integer NOT NULL,`card_exp_year` integer NOT NULL,`created_at` datetime,`updated_at` datetime,PRIMARY KEY (`buyer_id`));
CREATE TABLE `profile_uses` (`order_id` text,`buyer_id` text NOT NULL,`erased` numeric NOT NULL DEFAULT false,`created_at` datetime NOT NULL,PRIMARY KEY (`order_id`));
CREATE TABLE `product_variants` (`id` text,`product_id` text NOT NULL,`position` integer NOT NULL,`sku` text NOT NULL,`options` text NOT NULL,`price_minor` integer NOT NULL,`stock` integer NOT NULL,`active` numeric NOT NULL,`created_at` datetime,`updated_at` datetime,PRIMARY KEY (`id`),CONSTRAINT `chk_product_variants_stock` CHECK (stock >= 0));
CREATE TABLE `product_catalogues` (`product_id` text,`options` text NOT NULL,`images` text NOT NULL,`updated_at` datetime,PRIMARY KEY (`product_id`));
CREATE TABLE `merchant_policies` (`merchant_id` text,`shipping` text NOT NULL DEFAULT "",`tax` text NOT NULL DEFAULT "",`updated_at` datetime,PRIMARY KEY (`merchant_id`));
CREATE TABLE `quotes` (`id` text,`buyer_id` text NOT NULL,`product_id` text NOT NULL,`variant_id` text NOT NULL,`quantity` integer NOT NULL,`destination` text NOT NULL,`pricing` text NOT NULL,`rates` text NOT NULL,`order_id` text NOT NULL DEFAULT "",`expires_at` datetime NOT NULL,`created_at` datetime,PRIMARY KEY (`id`));
CREATE TABLE `rollout_settings` (`version` integer,`settings` text NOT NULL,`actor` text NOT NULL,`created_at` datetime NOT NULL,PRIMARY KEY (`version`));
CREATE TABLE `merchant_stripe_accounts` (`merchant_id` text,`account_id` text NOT NULL,`charges_enabled` numeric NOT NULL,`payouts_enabled` numeric NOT NULL,`details_done` numeric NOT NULL,`requirements_due` text NOT NULL,`disabled_reason` text NOT NULL,`fee_bps` integer,`fee_fixed_minor` integer,`event_created` integer NOT NULL,`updated_at` datetime,PRIMARY KEY (`merchant_id`));
CREATE TABLE `order_fees` (`order_id` text,`merchant_id` text NOT NULL,`destination` text NOT NULL,`fee_bps` integer NOT NULL,`fee_fixed_minor` integer NOT NULL,`fee_minor` integer NOT NULL,`captured_fee_minor` integer NOT NULL,`created_at` datetime,PRIMARY KEY (`order_id`));
CREATE TABLE `refund_splits` (`order_id` text,`request_key` text,`stripe_refund_id` text NOT NULL,`amount_minor` integer NOT NULL,`reversed_minor` integer NOT NULL,`fee_returned_minor` integer NOT NULL,`created_at` datetime,PRIMARY KEY (`order_id`,`request_key`));
CREATE UNIQUE INDEX `idx_merchants_api_key_hash` ON `merchants`(`api_key_hash`);
CREATE INDEX `idx_products_merchant_created` ON `products`(`merchant_id`,`created_at`);
CREATE INDEX `idx_orders_payment_intent` ON `orders`(`payment_intent_id`);
CREATE INDEX `idx_orders_merchant_created` ON `orders`(`merchant_id`,`created_at`);
CREATE INDEX `idx_orders_merchant_status_created` ON `orders`(`merchant_id`,`status`,`created_at`);
CREATE INDEX `idx_orders_buyer_created` ON `orders`(`buyer_id`,`created_at`);
CREATE INDEX `idx_order_events_order` ON `order_events`(`order_id`);
CREATE INDEX `idx_stock_reservations_product` ON `stock_reservations`(`product_id`);
CREATE INDEX `idx_merchant_keys_merchant` ON `merchant_keys`(`merchant_id`);
CREATE INDEX `idx_merchant_audit_merchant` ON `merchant_audit_events`(`merchant_id`,`created_at`);
CREATE INDEX `idx_webhook_attempts_order` ON `webhook_attempts`(`order_id`);
CREATE INDEX `idx_webhook_attempts_delivery` ON `webhook_attempts`(`delivery_id`);
CREATE UNIQUE INDEX `idx_buyer_profiles_id` ON `buyer_profiles`(`id`);
CREATE INDEX `idx_profile_uses_buyer` ON `profile_uses`(`buyer_id`);
CREATE INDEX `idx_product_variants_product` ON `product_variants`(`product_id`,`position`);
CREATE INDEX `idx_quotes_expires` ON `quotes`(`expires_at`);
CREATE UNIQUE INDEX `idx_merchant_stripe_account` ON `merchant_stripe_accounts`(`account_id`);
CREATE INDEX `idx_order_fees_merchant` ON `order_fees`(`merchant_id`);

-- +goose Down
DROP TABLE IF EXISTS `refund_splits`;
DROP TABLE IF EXISTS `order_fees`;
DROP TABLE IF EXISTS `merchant_stripe_accounts`;
DROP TABLE IF EXISTS `rollout_settings`;
DROP TABLE IF EXISTS `quotes`;
DROP TABLE IF EXISTS `merchant_policies`;
DROP TABLE IF EXISTS `product_catalogues`;
DROP TABLE IF EXISTS `product_variants`;
DROP TABLE IF EXISTS `profile_uses`;
DROP TABLE IF EXISTS `buyer_profiles`;
DROP TABLE IF EXISTS `webhook_attempts`;
DROP TABLE IF EXISTS `merchant_audit_events`;
DROP TABLE IF EXISTS `merchant_keys`;
DROP TABLE IF EXISTS `order_event_sequences`;
DROP TABLE IF EXISTS `refunds`;
DROP TABLE IF EXISTS `stripe_events`;
DROP TABLE IF EXISTS `idempotency_keys`;
DROP TABLE IF EXISTS `stock_reservations`;
DROP TABLE IF EXISTS `order_events`;
DROP TABLE IF EXISTS `orders`;
DROP TABLE IF EXISTS `products`;
DROP TABLE IF EXISTS `merchants`;

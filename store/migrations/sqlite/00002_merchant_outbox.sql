-- Version 2: the merchant outbox. An order's events for its merchant are
-- kept here by the order's workflow and sent by the worker's dispatcher,
-- one order's events in sequence.

-- +goose Up
CREATE TABLE `merchant_outbox` (`id` integer PRIMARY KEY AUTOINCREMENT,`order_id` text NOT NULL,`sequence` integer NOT NULL,`event_type` text NOT NULL,`payload` text NOT NULL,`state` text NOT NULL,`attempts` integer NOT NULL,`next_attempt_at` datetime NOT NULL,`lease_token` text NOT NULL,`lease_until` datetime,`created_at` datetime NOT NULL,`updated_at` datetime NOT NULL);
CREATE INDEX `idx_merchant_outbox_due` ON `merchant_outbox`(`state`,`next_attempt_at`);
CREATE UNIQUE INDEX `idx_merchant_outbox_order_sequence` ON `merchant_outbox`(`order_id`,`sequence`);

-- +goose Down
DROP TABLE IF EXISTS `merchant_outbox`;

-- Staff access tokens (JWT) carry the generation they were issued in; a token verifies only
-- while it matches. A password change or reset, a deactivation or an explicit revocation
-- raises the generation, so every token issued before stops working at once instead of at
-- its expiry.
ALTER TABLE users ADD COLUMN token_generation INTEGER NOT NULL DEFAULT 0;

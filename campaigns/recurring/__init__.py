"""Recurring gifts: monthly and yearly giving through Stripe subscriptions, one donation per paid invoice."""

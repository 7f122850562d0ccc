"""Peer-to-peer fundraising: supporters' pages and teams for a campaign, and leaderboards by
distinct donors (issue #15)."""

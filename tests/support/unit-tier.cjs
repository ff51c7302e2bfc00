// Set up for every test file of the unit tier (jest.unit.config.cjs), before it is loaded.
// The property tests deliver PROPERTY_EVENTS events (default 1,000,000, about two minutes): the
// edit loop runs a twentieth of them; the whole suite (`npm test`) runs them all. A value set in
// the environment wins.
process.env.PROPERTY_EVENTS ??= '50000';

-- One database per service: a service never reads another service's tables.
CREATE DATABASE eligibility;
CREATE DATABASE billing;
CREATE DATABASE reports;
CREATE DATABASE cycles;
CREATE DATABASE integrations;

"""The client against the C# TimeServer sample, started as a process: the original's example and the protocol's edges."""
import math
import re
import time
import unittest

import wevis

from .sample_servers import REPOSITORY, SampleServer

DEFINITIONS = REPOSITORY / 'definitions' / 'example.wevis'
TIMEOUT = 30  # seconds: every wait in these tests is bounded


class TimeServerTests(unittest.TestCase):
    """One TimeServer for the class; it pings a client after 0.2 s of quiet and closes it 0.5 s later if unanswered."""

    @classmethod
    def setUpClass(cls):
        cls.server = SampleServer('TimeServer', '--ping-interval', '0.2', '--ping-timeout', '0.5')
        cls.definitions = wevis.DefinitionList.from_file(DEFINITIONS)

    @classmethod
    def tearDownClass(cls):
        cls.server.stop()

    def client(self, password='mypassword', definitions=None):
        client = wevis.Client('michael', password, '1.0.0', '127.0.0.1', self.server.port,
                              definitions=definitions or self.definitions, timeout=TIMEOUT)
        self.addCleanup(client.stop)
        return client

    def test_the_original_example_logs_in_and_asks_the_time(self):
        client = self.client()
        client.start_blocking(timeout=TIMEOUT)
        client.receive_blocking('ServerReady', timeout=TIMEOUT)
        client.q('WhoAmI')
        self.assertEqual('michael', client.receive_blocking('YouAre', timeout=TIMEOUT).get('name'))
        client.q('WhatTimeIsIt')
        hours, minutes = client.receive_blocking('ItIs', timeout=TIMEOUT).get('hours', 'minutes')
        self.assertTrue(0 <= hours < 24 and 0 <= minutes < 60)

    def test_a_wrong_password_is_rejected_with_the_servers_reason(self):
        client = self.client(password='not my password')
        with self.assertRaises(wevis.LoginRejectedError) as caught:
            client.start_blocking(timeout=TIMEOUT)
        self.assertEqual('Unknown user or wrong password.', caught.exception.reason)
        self.assertFalse(client.is_connected)

    def test_other_definitions_are_rejected_with_the_servers_reason(self):
        definitions = wevis.DefinitionList.from_file(DEFINITIONS)
        definitions.add('Extra', value=int)
        client = self.client(definitions=definitions)
        with self.assertRaises(wevis.LoginRejectedError) as caught:
            client.start_blocking(timeout=TIMEOUT)
        self.assertRegex(
            caught.exception.reason,
            rf"^The client's message definitions differ from the server's \(fingerprint {definitions.fingerprint()}, "
            rf"server {self.definitions.fingerprint()}\); build both from the same definitions\.$")

    def test_pings_are_answered_while_the_program_pauses(self):
        client = self.client()
        client.start_blocking(timeout=TIMEOUT)
        client.receive_blocking('ServerReady', timeout=TIMEOUT)

        # The program does something else for a while (this pause is what is tested): the server pings every 0.2 s
        # of quiet and would close the connection 0.5 s after an unanswered ping; the client's thread answers.
        time.sleep(2)

        self.assertTrue(client.is_connected, client.close_reason)
        client.q('WhoAmI')
        self.assertEqual('michael', client.receive_blocking('YouAre', timeout=TIMEOUT).get('name'))

    def test_receive_blocking_takes_any_of_several_names_and_refuses_others(self):
        client = self.client()
        client.start_blocking(timeout=TIMEOUT)
        client.receive_blocking('ServerReady', timeout=TIMEOUT)
        client.q('WhoAmI')
        client.q('WhatTimeIsIt')

        first = client.receive_blocking('ItIs', 'YouAre', timeout=TIMEOUT)
        second = client.receive_blocking('ItIs', 'YouAre', timeout=TIMEOUT)
        self.assertEqual(['YouAre', 'ItIs'], [first.name, second.name])

        client.q('WhoAmI')
        with self.assertRaises(wevis.UnexpectedMessageError) as caught:
            client.receive_blocking('ItIs', 'ServerReady', timeout=TIMEOUT)
        self.assertEqual('Expected ItIs or ServerReady, got YouAre.', str(caught.exception))
        self.assertEqual('michael', caught.exception.got.get('name'))
        with self.assertRaises(TimeoutError):
            client.receive_blocking(timeout=0.3)  # the unexpected message was consumed

    def test_float_arrays_arrive_as_lists(self):
        client = self.client()
        client.start_blocking(timeout=TIMEOUT)
        client.receive_blocking('ServerReady', timeout=TIMEOUT)
        client.q('PleaseMayIHaveSomeFloats', singles=3, doubles=2)
        singles, doubles = client.receive_blocking('SomeFloats', timeout=TIMEOUT).get('singles', 'doubles')
        self.assertEqual([0.0, 0.1], doubles)
        self.assertEqual(3, len(singles))
        self.assertTrue(all(math.isclose(s, k / 10, rel_tol=1e-6) for k, s in enumerate(singles)))

    def test_a_wait_ends_with_the_reason_the_server_closed(self):
        client = self.client()
        client.start_blocking(timeout=TIMEOUT)
        client.receive_blocking('ServerReady', timeout=TIMEOUT)
        client.q('PleaseMayIHaveSomeFloats', singles=-1, doubles=0)
        with self.assertRaises(wevis.ConnectionClosedError) as caught:
            client.receive_blocking(timeout=TIMEOUT)
        self.assertEqual('Asked for -1 singles and 0 doubles; at most 100000 floats in all.', caught.exception.reason)
        with self.assertRaises(wevis.ConnectionClosedError):
            client.q('WhoAmI')

    def test_stop_tells_the_server_why_and_the_same_user_logs_in_again_at_once(self):
        # The server lets michael have one connection: a new login succeeds only if stop() closed the old one fully.
        for _ in range(3):
            client = self.client()
            client.start_blocking(timeout=TIMEOUT)
            client.receive_blocking('ServerReady', timeout=TIMEOUT)
            client.stop()
            self.assertFalse(client.is_connected)

        # And the server heard why (the _Closing), rather than seeing the socket drop.
        self.server.wait_for(re.compile(r'\(michael\) closed, \d+ still open: .*the client was stopped'), TIMEOUT)

    def test_arguments_are_checked_before_sending(self):
        client = self.client()
        client.start_blocking(timeout=TIMEOUT)
        with self.assertRaisesRegex(TypeError, r'^PleaseMayIHaveSomeFloats\.singles must be an int, not str\.$'):
            client.q('PleaseMayIHaveSomeFloats', singles='3', doubles=1)
        with self.assertRaisesRegex(ValueError, r'^PleaseMayIHaveSomeFloats is missing doubles\.$'):
            client.q('PleaseMayIHaveSomeFloats', singles=3)
        with self.assertRaisesRegex(KeyError, r"There is no message 'WhatDayIsIt'"):
            client.q('WhatDayIsIt')
        with self.assertRaisesRegex(wevis.ClientError, r'^_Ping is one of the protocol\'s own messages'):
            client.q('_Ping')


if __name__ == '__main__':
    unittest.main()

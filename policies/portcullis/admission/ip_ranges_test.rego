package portcullis.admission_test
import rego.v1
import data.portcullis.admission
test_ip_keys if {
  admission.ip_range_key("10.0.0.0/8") == "4:00001010"
  admission.ip_range_key("0.0.0.0/0") == "4:"
  admission.ip_range_key("::/0") == "6:"
  admission.ip_range_key("8000::/1") == "6:1"
  admission.ip_range_key("::ffff:192.0.2.1") == concat("", ["6:", "0000000000000000000000000000000000000000000000000000000000000000", "0000000000000000", "1111111111111111", "11000000000000000000001000000001"])
  admission.ip_range_key("2001:db8::1/32") == "6:00100000000000010000110110111000"
  not admission.ip_range_key("1.2.3/8")
  not admission.ip_range_key("1::2::3/8")
  not admission.ip_range_key("10.0.0.0/33")
  not admission.ip_range_key("fe80::1%eth0/64")
  not admission.ip_range_key("g::/1")
}
test_cover if {
  admission.ip_ranges_cover_everything(["0.0.0.0/1", "128.0.0.0/1"])
  admission.ip_ranges_cover_everything(["0.0.0.0/0"])
  admission.ip_ranges_cover_everything(["::/1", "8000::/1", "10.0.0.0/8"])
  admission.ip_ranges_cover_everything(["0.0.0.0/2", "64.0.0.0/2", "128.0.0.0/1", "10.0.0.0/8"])
  admission.ip_ranges_cover_everything(["128.0.0.0/1", "0.0.0.0/2", "64.0.0.0/3", "96.0.0.0/3"])
  not admission.ip_ranges_cover_everything(["0.0.0.0/1", "128.0.0.0/2"])
  not admission.ip_ranges_cover_everything(["0.0.0.0/1", "::/1", "8000::/2"])
  not admission.ip_ranges_cover_everything(["128.0.0.0/1", "0.0.0.0/2", "64.0.0.0/3"])
  not admission.ip_ranges_cover_everything([])
}

test_ip_keys_of_every_spelling if {
	admission.ip_range_key("192.0.2.1") == concat("", ["4:", "11000000000000000000001000000001"])
	admission.ip_range_key("1:2:3:4:5:6:7:8/16") == "6:0000000000000001"
	admission.ip_range_key("::FFFF:0:0/96") == concat("", ["6:", "0000000000000000000000000000000000000000000000000000000000000000", "00000000000000001111111111111111"])
	not admission.ip_range_key("1:2:3:4:5:6:7/16")
	not admission.ip_range_key("1:2:3:4:5:6:7:8:9/16")
	not admission.ip_range_key("12345::/16")
	not admission.ip_range_key("::1.2.3/16")
	not admission.ip_range_key(":::/0")
	not admission.ip_range_key(7)
	not admission.ip_range_key("10.0.0.0/x")
	not admission.ip_range_key("10.0.0.0/8/8")
}

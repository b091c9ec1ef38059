$(eval $(call program,smtpd,libexec,tls xsasl dns global util))
